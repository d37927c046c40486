//! `loadgen capacity` against a target faster than loadgen: the search must say loadgen was
//! the limit and never report it as the target's capacity. Alone in its test binary, as it
//! keeps both cores busy.

mod common;

use std::time::Duration;

use loadgen::Config;
use loadgen::assert::Assertion;
use loadgen::capacity::search::{LimitedBy, Verdict};
use loadgen::capacity::{self, Settings};

#[test]
fn a_target_faster_than_the_generator_is_limited_by_the_generator() {
    // Our own server with two workers against one loadgen thread asked for 2M req/s: the
    // thread is never idle and falls behind, so nothing may be said about the server.
    let server = server::start(server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        workers: 2,
        ..Default::default()
    })
    .expect("server starts");
    let mut config = Config::new(format!("http://{}/plaintext", server.addr()));
    (config.threads, config.connections) = (1, 16);
    let slos = vec![Assertion::parse("p99<50ms").unwrap()];
    let mut settings = Settings::new(config, slos);
    settings.start_rate = Some(2_000_000.0);
    settings.step_duration = Duration::from_millis(300);
    settings.step_warmup = Duration::from_millis(100);
    let outcome = capacity::run(&settings, |_| {}).unwrap();
    assert_eq!(outcome.found.limited_by, LimitedBy::Generator, "{outcome:#?}");
    assert_eq!((outcome.max_rate(), outcome.steps.len()), (None, 1));
    let step = &outcome.steps[0];
    assert_eq!(step.verdict, Verdict::Generator);
    assert!(step.achieved_rps < 1_000_000.0, "{step:?}");
    let headline = capacity::render::headline(&settings, &outcome);
    assert!(
        headline.starts_with(
            "loadgen saturated at 2000000 req/s on 1 thread; capacity is above that \
             (loadgen could not deliver even the start rate"
        ),
        "{headline}"
    );
}
