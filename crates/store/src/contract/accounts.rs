//! Accounts: who sees which users, logins, sessions, rate limits, validation.

use std::collections::BTreeSet;

use lienhoan_domain::access::{Actor, NewUser, Role};
use lienhoan_domain::organisation::Organisation;
use time::OffsetDateTime;
use uuid::Uuid;

use super::fixtures::*;
use crate::{Store, StoreError};

// ---------------------------------------------------------------------------------------------
// 4. Scope (of users)

pub async fn user_scope_follows_organisation(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let b = organisation(store, "Công an huyện Sông Lô", &g.song_lo).await;
    let officer_a = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let commander_a = user(store, "chi.huy.a", Some(&a), Role::Commander).await;
    let coordinator_a = user(store, "dieu.phoi.a", Some(&a), Role::Coordinator).await;
    let officer_b = user(store, "can.bo.b", Some(&b), Role::Officer).await;
    let auditor = user(store, "kiem.tra", None, Role::Auditor).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;

    let usernames = |actor: Actor| async move {
        store
            .list_users(&actor)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect::<BTreeSet<_>>()
    };
    let of_a: BTreeSet<String> = ["can.bo.a", "chi.huy.a", "dieu.phoi.a"]
        .map(String::from)
        .into();
    assert_eq!(usernames(commander_a.clone()).await, of_a);
    assert_eq!(usernames(officer_a.clone()).await, of_a);
    assert_eq!(
        usernames(officer_b.clone()).await,
        ["can.bo.b".to_string()].into()
    );
    for actor in [&admin, &auditor] {
        let all = usernames(actor.clone()).await;
        assert_eq!(all.len(), 6, "{all:?}");
    }
    let listed = store.list_users(&commander_a).await.unwrap();
    assert!(listed.iter().all(|u| u.organisation_id == Some(a.id)));
    assert!(
        listed
            .iter()
            .all(|u| u.organisation_name.as_deref() == Some("Công an huyện Sơn Dương"))
    );

    // Lookups outside the scope find nothing.
    not_found(store.user_by_username(&commander_a, "can.bo.b").await);
    not_found(store.user_by_username(&commander_a, "quan.tri").await);
    not_found(store.user_by_username(&officer_b, "can.bo.a").await);
    let own = store
        .user_by_username(&commander_a, "can.bo.a")
        .await
        .unwrap();
    assert_eq!(own.id, officer_a.user_id);
    assert_eq!(own.role, Role::Officer);
    assert!(!own.disabled);
    assert_eq!(
        store
            .user_by_username(&auditor, "can.bo.b")
            .await
            .unwrap()
            .id,
        officer_b.user_id
    );
    not_found(store.user_by_username(&admin, "khong.co").await);

    // What a commander may create.
    let created = store
        .create_user(
            &commander_a,
            &new_user("can.bo.a2", Some(&a), Role::Officer),
            false,
        )
        .await
        .unwrap();
    assert_eq!(created.organisation_id, Some(a.id));
    assert_eq!(
        created.organisation_name.as_deref(),
        Some("Công an huyện Sơn Dương")
    );
    assert_eq!(created.role, Role::Officer);
    store
        .create_user(
            &commander_a,
            &new_user("chi.huy.a2", Some(&a), Role::Commander),
            false,
        )
        .await
        .unwrap();
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("can.bo.b2", Some(&b), Role::Officer),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("quan.tri.2", None, Role::Admin),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("quan.tri.3", Some(&a), Role::Admin),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("dieu.phoi.a2", Some(&a), Role::Coordinator),
                false,
            )
            .await,
    );
    forbidden(
        store
            .create_user(
                &commander_a,
                &new_user("kiem.tra.2", None, Role::Auditor),
                false,
            )
            .await,
    );
    for actor in [&officer_a, &coordinator_a, &auditor] {
        forbidden(
            store
                .create_user(
                    actor,
                    &new_user("can.bo.a3", Some(&a), Role::Officer),
                    false,
                )
                .await,
        );
    }
    not_found(store.user_by_username(&admin, "can.bo.b2").await);
    not_found(store.user_by_username(&admin, "quan.tri.2").await);

    // Managing existing accounts.
    hidden_or_forbidden(
        store
            .set_user_disabled(&commander_a, officer_b.user_id, true)
            .await,
    );
    hidden_or_forbidden(
        store
            .set_password(&commander_a, officer_b.user_id, "mật khẩu mới đủ dài")
            .await,
    );
    forbidden(
        store
            .set_user_disabled(&commander_a, coordinator_a.user_id, true)
            .await,
    );
    forbidden(
        store
            .set_password(&officer_a, commander_a.user_id, "mật khẩu mới đủ dài")
            .await,
    );
    // Anyone may change their own password.
    store
        .set_password(&officer_a, officer_a.user_id, "mật khẩu mới đủ dài")
        .await
        .unwrap();
    store
        .login("can.bo.a", "mật khẩu mới đủ dài", ADDRESS)
        .await
        .unwrap();
    store
        .set_user_disabled(&commander_a, created.id, true)
        .await
        .unwrap();
    assert!(
        store
            .user_by_username(&commander_a, "can.bo.a2")
            .await
            .unwrap()
            .disabled
    );
    assert!(
        !store
            .user_by_username(&admin, "can.bo.b")
            .await
            .unwrap()
            .disabled
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Accounts

pub async fn accounts_and_sessions(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let created = store
        .create_user(
            &Actor::system(),
            &new_user("can.bo.a", Some(&a), Role::Officer),
            false,
        )
        .await
        .unwrap();
    assert_eq!(created.username, "can.bo.a");
    assert_eq!(created.display_name, "Cán bộ can.bo.a");
    assert_eq!(created.role, Role::Officer);
    assert_eq!(created.organisation_id, Some(a.id));
    assert!(!created.disabled);

    conflict(
        store
            .create_user(
                &Actor::system(),
                &new_user("can.bo.a", Some(&a), Role::Commander),
                false,
            )
            .await,
        "username",
    );

    bad_credentials(store.login("can.bo.a", "sai mật khẩu", ADDRESS).await);
    bad_credentials(store.login("khong.co.ai", PASSWORD, ADDRESS).await);
    bad_credentials(store.login("can.bo.a", "", ADDRESS).await);

    let session = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert_eq!(session.actor.user_id, created.id);
    assert_eq!(session.actor.organisation_id, Some(a.id));
    assert_eq!(session.actor.role, Role::Officer);
    assert!(session.expires_at > OffsetDateTime::now_utc());
    assert!(
        session.token.len() >= 32,
        "a token long enough to guess never"
    );
    let second = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert_ne!(session.token, second.token);

    assert_eq!(
        store.session_actor(&session.token).await.unwrap(),
        Some(session.actor.clone())
    );
    assert_eq!(
        store.session_actor(&session.token).await.unwrap(),
        Some(session.actor.clone()),
        "a session can be used again"
    );
    assert_eq!(store.session_actor("not-a-token").await.unwrap(), None);
    assert_eq!(store.session_actor("").await.unwrap(), None);

    store.logout(&session.actor, &session.token).await.unwrap();
    assert_eq!(store.session_actor(&session.token).await.unwrap(), None);
    assert_eq!(
        store.session_actor(&second.token).await.unwrap(),
        Some(second.actor.clone()),
        "logging out ends only that session"
    );
    // Somebody else's token does not end their session.
    let other = user(store, "can.bo.b", Some(&a), Role::Officer).await;
    store.logout(&other, &second.token).await.unwrap();
    assert!(store.session_actor(&second.token).await.unwrap().is_some());
}

pub async fn login_failures_are_rate_limited(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    user(store, "can.bo.a", Some(&a), Role::Officer).await;
    user(store, "can.bo.b", Some(&a), Role::Officer).await;
    for _ in 0..lienhoan_domain::login::MAX_FAILURES_PER_ACCOUNT {
        bad_credentials(store.login("can.bo.a", "sai mật khẩu", ADDRESS).await);
    }
    let limited = store.login("can.bo.a", PASSWORD, ADDRESS).await;
    assert!(
        matches!(limited, Err(StoreError::RateLimited)),
        "expected RateLimited, got {limited:?}"
    );
    let limited = store.login("can.bo.a", PASSWORD, "10.0.0.9").await;
    assert!(
        matches!(limited, Err(StoreError::RateLimited)),
        "the account limit holds from any address, got {limited:?}"
    );
    // Another account from the same address is not locked out.
    store.login("can.bo.b", PASSWORD, ADDRESS).await.unwrap();
}

pub async fn disabling_and_new_passwords_end_sessions(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let admin = user(store, "quan.tri", None, Role::Admin).await;
    let officer = user(store, "can.bo.a", Some(&a), Role::Officer).await;
    let session = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert!(store.session_actor(&session.token).await.unwrap().is_some());

    store
        .set_user_disabled(&admin, officer.user_id, true)
        .await
        .unwrap();
    assert_eq!(store.session_actor(&session.token).await.unwrap(), None);
    assert!(store.login("can.bo.a", PASSWORD, ADDRESS).await.is_err());
    assert!(
        store
            .user_by_username(&admin, "can.bo.a")
            .await
            .unwrap()
            .disabled
    );
    store
        .set_user_disabled(&admin, officer.user_id, false)
        .await
        .unwrap();
    assert!(
        !store
            .user_by_username(&admin, "can.bo.a")
            .await
            .unwrap()
            .disabled
    );
    let session = store.login("can.bo.a", PASSWORD, ADDRESS).await.unwrap();
    assert!(store.session_actor(&session.token).await.unwrap().is_some());

    // An admin cannot lock themself out.
    let admin_session = store.login("quan.tri", PASSWORD, ADDRESS).await.unwrap();
    assert!(
        matches!(
            store.set_user_disabled(&admin, admin.user_id, true).await,
            Err(StoreError::Invalid(_) | StoreError::Forbidden)
        ),
        "disabling oneself is refused"
    );
    assert!(
        store
            .session_actor(&admin_session.token)
            .await
            .unwrap()
            .is_some()
    );

    // A new password ends every session; the old one stops working, the new one works.
    let new_password = "mật khẩu mới đủ dài";
    store
        .set_password(&admin, officer.user_id, new_password)
        .await
        .unwrap();
    assert_eq!(store.session_actor(&session.token).await.unwrap(), None);
    bad_credentials(store.login("can.bo.a", PASSWORD, ADDRESS).await);
    let session = store
        .login("can.bo.a", new_password, ADDRESS)
        .await
        .unwrap();
    assert_eq!(
        store
            .session_actor(&session.token)
            .await
            .unwrap()
            .map(|a| a.user_id),
        Some(officer.user_id)
    );
    assert!(
        store
            .session_actor(&admin_session.token)
            .await
            .unwrap()
            .is_some(),
        "other accounts keep their sessions"
    );
    invalid(
        store.set_password(&admin, officer.user_id, "ngắn").await,
        "password",
    );
    not_found(
        store
            .set_password(&admin, Uuid::now_v7(), new_password)
            .await,
    );
    not_found(store.set_user_disabled(&admin, Uuid::now_v7(), true).await);
    store
        .login("can.bo.a", new_password, ADDRESS)
        .await
        .unwrap();
}

pub async fn user_validation(store: &dyn Store) {
    let g = import_fixture_geo(store).await;
    let a = organisation(store, "Công an huyện Sơn Dương", &g.son_duong).await;
    let system = Actor::system();
    let weak = NewUser {
        password: "1234".into(),
        ..new_user("demo.yeu", Some(&a), Role::Officer)
    };
    invalid(store.create_user(&system, &weak, false).await, "password");
    not_found(store.user_by_username(&system, "demo.yeu").await);
    // Weak passwords are for the demo accounts only.
    store.create_user(&system, &weak, true).await.unwrap();
    store.login("demo.yeu", "1234", ADDRESS).await.unwrap();

    invalid(
        store
            .create_user(&system, &new_user("có dấu", Some(&a), Role::Officer), false)
            .await,
        "username",
    );
    invalid(
        store
            .create_user(&system, &new_user("ab", Some(&a), Role::Officer), false)
            .await,
        "username",
    );
    invalid(
        store
            .create_user(
                &system,
                &NewUser {
                    display_name: " ".into(),
                    ..new_user("can.bo.x", Some(&a), Role::Officer)
                },
                false,
            )
            .await,
        "display_name",
    );
    invalid(
        store
            .create_user(&system, &new_user("can.bo.x", None, Role::Officer), false)
            .await,
        "organisation_id",
    );
    let ghost = Organisation {
        id: Uuid::now_v7(),
        ..a.clone()
    };
    invalid(
        store
            .create_user(
                &system,
                &new_user("can.bo.x", Some(&ghost), Role::Officer),
                false,
            )
            .await,
        "organisation_id",
    );
    not_found(store.user_by_username(&system, "can.bo.x").await);
    // System-wide roles need no organisation.
    let auditor = store
        .create_user(&system, &new_user("kiem.tra", None, Role::Auditor), false)
        .await
        .unwrap();
    assert_eq!(auditor.organisation_id, None);
    assert_eq!(auditor.organisation_name, None);
    assert_eq!(store.list_users(&system).await.unwrap().len(), 2);
}
