//! Graceful shutdown of the real binary: sign-ins in flight when an operator
//! stops the server (SIGTERM) are all answered, one client hanging up
//! meanwhile changes nothing for the others, and the process exits 0.

use std::time::Duration;

use serde_json::json;

use crate::browser::server::Server;
use crate::browser::PASSWORD;

crate::tests!(sign_ins_in_flight_are_answered_when_the_server_stops);

/// Eight sign-ins queue for one password thread at bcrypt's default cost
/// (each takes a good part of a second in a debug build: together, longer
/// than Rocket's own 2-second grace). The first client hangs up early.
async fn sign_ins_in_flight_are_answered_when_the_server_stops() {
    let mut server = Server::start(&[
        ("GATEHOUSE_PASSWORD__BCRYPT_COST", "12"),
        ("GATEHOUSE_PASSWORD__HASH_WORKERS", "1"),
        ("GATEHOUSE_LOGIN__RATE_LIMIT_PER_MINUTE", "1000"),
    ])
    .await;
    server.create_user("kate@example.com", "Kate", false);
    let body = json!({"email": "kate@example.com", "password": PASSWORD});
    let sign_ins: Vec<_> = (0..8)
        .map(|i| {
            let client = reqwest::Client::builder()
                .timeout(if i == 0 {
                    Duration::from_millis(150)
                } else {
                    Duration::from_secs(60)
                })
                .build()
                .unwrap();
            let request = client.post(server.url("/api/v1/login")).json(&body);
            rocket::tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    // All eight are in: the first check takes longer than this.
    rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    let exited = server.terminate(Duration::from_secs(60)).await;

    let mut answers = Vec::new();
    for sign_in in sign_ins {
        answers.push(sign_in.await.unwrap().map_err(|e| e.to_string()));
    }
    let log = server.log();
    assert!(answers[0].is_err(), "the first client hung up: {answers:?}");
    assert!(
        answers[1..].iter().all(|a| matches!(a, Ok(200))),
        "every other sign-in in flight is answered 200: {answers:?}\n{log}"
    );
    let status = exited.unwrap_or_else(|| panic!("the server is still up a minute later:\n{log}"));
    assert!(status.success(), "the server exits 0, not {status}:\n{log}");
}
