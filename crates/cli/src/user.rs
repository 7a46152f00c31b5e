//! `lienhoan user add|passwd|disable|enable`: account work for the operator of the machine.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Subcommand;
use lienhoan_domain::access::{Actor, NewUser, Role};
use lienhoan_store::Store;
use uuid::Uuid;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Creates an account; the password is asked for (or read from standard input).
    Add {
        username: String,
        /// admin, coordinator, commander, officer or auditor.
        #[arg(long)]
        role: String,
        /// The organisation's id (required except for admin and auditor).
        #[arg(long)]
        organisation: Option<Uuid>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Sets a new password and ends the account's sessions.
    Passwd { username: String },
    /// Blocks sign-in and ends the account's sessions.
    Disable { username: String },
    /// Allows sign-in again.
    Enable { username: String },
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mật khẩu / password: ")?;
        let second = rpassword::prompt_password("Nhập lại / again: ")?;
        if first != second {
            bail!("the passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

pub async fn run(store: &dyn Store, command: UserCommand) -> anyhow::Result<()> {
    let system = Actor::system();
    match command {
        UserCommand::Add {
            username,
            role,
            organisation,
            name,
        } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
            let input = NewUser {
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                password: read_password()?,
                organisation_id: organisation,
                role,
            };
            let user = store.create_user(&system, &input, false).await?;
            println!("account {} created ({})", user.username, user.role.as_str());
        }
        UserCommand::Passwd { username } => {
            let user = store.user_by_username(&system, &username).await?;
            store
                .set_password(&system, user.id, &read_password()?)
                .await?;
            println!("password of {username} changed; its sessions were ended");
        }
        UserCommand::Disable { username } => set_disabled(store, &username, true).await?,
        UserCommand::Enable { username } => set_disabled(store, &username, false).await?,
    }
    Ok(())
}

async fn set_disabled(store: &dyn Store, username: &str, disabled: bool) -> anyhow::Result<()> {
    let system = Actor::system();
    let user = store.user_by_username(&system, username).await?;
    store.set_user_disabled(&system, user.id, disabled).await?;
    println!(
        "account {username} {}",
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}
