//! Live alerts over server-sent events: each signed-in browser receives the events addressed
//! to its organisation, whichever server process committed them.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use lienhoan_store::LiveEvent;
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::auth::Caller;

/// `GET /api/v1/events`: `text/event-stream` of the caller's live events.
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut receiver = state.store.subscribe();
    let organisation = caller.actor.organisation_id;
    let stream = async_stream(move |yielder| async move {
        loop {
            match receiver.recv().await {
                Ok(payload) => {
                    let Ok(event) = serde_json::from_str::<LiveEvent>(&payload) else {
                        continue;
                    };
                    if organisation.is_some_and(|org| event.recipients.contains(&org)) {
                        let sse = Event::default().event(event.kind.clone()).data(payload);
                        if yielder.send(sse).await.is_err() {
                            break;
                        }
                    }
                }
                // A browser that fell behind reloads its lists; carry on with what comes next.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}

/// A stream fed by a task through a small channel.
fn async_stream<F, Fut>(produce: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, mut receiver) = tokio::sync::mpsc::channel(16);
    tokio::spawn(produce(sender));
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx).map(|e| e.map(Ok)))
}
