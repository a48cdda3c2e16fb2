//! The retry policy and the loop that applies it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant, SystemTime};

use time::{Date, Month, PrimitiveDateTime, Time};

use crate::Error;
use crate::error::{CallInfo, TimeoutPhase, TransportKind};

/// When and how often a failed call is sent again.
///
/// The wait before retry *n* (the first retry is *n* = 1) is
/// `initial_interval × exponent^(n−1)`, capped at `max_interval`, then shortened by up to
/// `jitter` of itself at random (subtractive jitter: a wait never exceeds the schedule). A
/// `Retry-After` header on a retried response asks for a longer wait: the loop then waits what
/// it asks (clamped to `max_interval`, no jitter), never less than the backoff, so that
/// `Retry-After: 0` or a date in the past cannot make it hammer the server. The loop stops,
/// returning the last error, when the next wait would end after `max_elapsed` from the start
/// of the call, or when `max_attempts` requests have been made.
///
/// The defaults:
///
/// | setting | default |
/// | --- | --- |
/// | [`initial_interval`](Self::initial_interval) | 500 ms |
/// | [`exponent`](Self::exponent) | 1.5 |
/// | [`max_interval`](Self::max_interval) | 60 s |
/// | [`max_elapsed`](Self::max_elapsed) | 30 s |
/// | [`max_attempts`](Self::max_attempts) | none (the time budget decides) |
/// | [`jitter`](Self::jitter) | 0.25 |
/// | [`retry_connection_errors`](Self::retry_connection_errors) | yes |
///
/// which gives waits of 0.5 s, 0.75 s, 1.125 s, 1.69 s, 2.53 s, 3.80 s, 5.70 s and 8.54 s
/// before jitter, so nine requests within the 30 s budget; jitter shortens the waits, which can
/// leave room for a tenth.
///
/// What is retried: responses 429 and 5XX; failures before the request reached the server
/// (DNS, refused, connect timeout, TLS handshake) when connection errors are retried; and,
/// only for idempotent operations ([`upsert_user`](crate::ManagementClient::upsert_user)),
/// failures after the request may have reached the server (a reset while waiting for the
/// response, a response timeout). No other 4XX is ever retried. A 5XX is taken to mean that
/// nothing was done, as Clerk's API answers it; a gateway that fails after forwarding a create
/// breaks that assumption, which `max_attempts(1)` rules out for the cautious.
///
/// ```
/// use std::time::Duration;
/// use clerk_management::RetryConfig;
///
/// let policy = RetryConfig::default()
///     .max_elapsed(Duration::from_secs(10))
///     .max_attempts(4);
/// assert_ne!(policy, RetryConfig::none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    initial_interval: Duration,
    exponent: f64,
    max_interval: Duration,
    max_elapsed: Duration,
    max_attempts: Option<u32>,
    jitter: f64,
    retry_connection_errors: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            initial_interval: Duration::from_millis(500),
            exponent: 1.5,
            max_interval: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(30),
            max_attempts: None,
            jitter: 0.25,
            retry_connection_errors: true,
        }
    }
}

impl RetryConfig {
    /// A policy that makes exactly one attempt.
    pub fn none() -> Self {
        RetryConfig::default().max_attempts(1)
    }

    /// The wait before the first retry (default 500 ms).
    pub fn initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// The growth factor of the wait from one retry to the next (default 1.5).
    ///
    /// A value below 1, or one that is not a finite number, is taken as 1 (a constant wait).
    pub fn exponent(mut self, exponent: f64) -> Self {
        self.exponent = if exponent.is_finite() && exponent >= 1.0 {
            exponent
        } else {
            1.0
        };
        self
    }

    /// The longest single wait, for backoff and for `Retry-After` alike (default 60 s).
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// The time budget of a call: no retry starts a wait that would end after it (default 30 s).
    ///
    /// A call therefore lasts at most this budget plus one attempt's
    /// [`timeout`](crate::ManagementClientBuilder::timeout).
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// The most requests a call makes, the first one included (default: no cap).
    ///
    /// `0` is taken as `1`.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts.max(1));
        self
    }

    /// The fraction of each backoff wait that may be taken off at random (default 0.25).
    ///
    /// `0` gives the exact schedule; the value is clamped to `0..=1`.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self
    }

    /// Whether failures to connect (and, for idempotent operations, broken connections) are
    /// retried (default yes).
    pub fn retry_connection_errors(mut self, retry: bool) -> Self {
        self.retry_connection_errors = retry;
        self
    }

    /// The backoff wait before retry `retry` (1-based), before jitter.
    fn backoff(&self, retry: u32) -> Duration {
        let factor = self.exponent.powf(f64::from(retry.saturating_sub(1)));
        let secs = self.initial_interval.as_secs_f64() * factor;
        let cap = self.max_interval.as_secs_f64();
        let secs = if secs.is_finite() { secs.min(cap) } else { cap };
        // A cap near `Duration::MAX` rounds up past it as a float; converting would panic.
        Duration::try_from_secs_f64(secs)
            .map_or(self.max_interval, |wait| wait.min(self.max_interval))
    }

    /// The wait before the next attempt, or `None` when the loop must stop with `error`.
    ///
    /// `random` is uniform in `0..1`, the source of the jitter.
    fn next_wait(
        &self,
        error: &Error,
        idempotent: bool,
        attempts: u32,
        elapsed: Duration,
        random: f64,
    ) -> Option<Duration> {
        if !self.is_retried(error, idempotent) {
            return None;
        }
        if self.max_attempts.is_some_and(|cap| attempts >= cap) {
            return None;
        }

        let full = self.backoff(attempts);
        // `mul_f64` panics where the float rounds past `Duration::MAX`.
        let cut = full.as_secs_f64() * (1.0 - self.jitter * random);
        let backoff = Duration::try_from_secs_f64(cut).map_or(full, |wait| wait.min(full));
        let wait = match error.retry_after() {
            Some(asked) => asked.min(self.max_interval).max(backoff),
            None => backoff,
        };

        if elapsed.saturating_add(wait) > self.max_elapsed {
            return None;
        }
        Some(wait)
    }

    fn is_retried(&self, error: &Error, idempotent: bool) -> bool {
        match error {
            // A body over the limit does not change what the status says about retrying.
            Error::Api(_) | Error::UnexpectedResponse(_) | Error::ResponseTooLarge { .. } => error
                .status()
                .is_some_and(|s| s == 429 || (500..=599).contains(&s)),
            Error::Transport(e) if e.kind == TransportKind::NotSent => false,
            Error::Transport(e) if e.kind.before_send() => self.retry_connection_errors,
            Error::Transport(_) => self.retry_connection_errors && idempotent,
            Error::Timeout(e) => match e.phase {
                TimeoutPhase::Connect => self.retry_connection_errors,
                _ => self.retry_connection_errors && idempotent,
            },
            _ => false,
        }
    }
}

/// Time and randomness for the loop: the real ones in production, fakes in tests.
pub(crate) trait Clock {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration);
    /// A number uniform in `0..1`.
    fn random(&self) -> f64;
}

/// The wall clock, `thread::sleep`, and std's hasher seeds as the random source.
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn random(&self) -> f64 {
        // Each RandomState carries fresh keys, which is all the randomness jitter needs.
        let bits = RandomState::new().build_hasher().finish() >> 11;
        // 53 bits convert to f64 exactly.
        #[allow(clippy::cast_precision_loss)]
        let unit = bits as f64 / (1u64 << 53) as f64;
        unit
    }
}

/// Runs `attempt` under `policy` until it succeeds or the policy says stop; returns the
/// attempts made and the time spent with the value, and stamps them on the error.
pub(crate) fn run<T>(
    policy: &RetryConfig,
    idempotent: bool,
    clock: &dyn Clock,
    mut attempt: impl FnMut() -> Result<T, Error>,
) -> Result<(T, CallInfo), Error> {
    let start = clock.now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = attempt();
        let elapsed = clock.now().saturating_duration_since(start);
        let mut error = match result {
            Ok(value) => return Ok((value, CallInfo { attempts, elapsed })),
            Err(error) => error,
        };

        match policy.next_wait(&error, idempotent, attempts, elapsed, clock.random()) {
            Some(wait) => clock.sleep(wait),
            None => {
                if let Some(call) = error.call_mut() {
                    call.attempts = attempts;
                    call.elapsed = elapsed;
                }
                return Err(error);
            }
        }
    }
}

/// Reads a `Retry-After` value: delta-seconds, or an HTTP-date measured from `now`.
///
/// Anything else (negative, fractional, unparsable) is `None`, so normal backoff applies.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "a very long wait": the cap applies later.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }

    let at = parse_http_date(value)?;
    let now = time::OffsetDateTime::from(now);
    let wait = at.assume_utc() - now;
    Some(wait.try_into().unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
// Limitation: the obsolete RFC 850 and asctime forms, which RFC 9110 asks recipients to accept,
// are not recognised; a server sending one gets normal backoff instead.
fn parse_http_date(value: &str) -> Option<PrimitiveDateTime> {
    let parts: Vec<&str> = value.split(' ').collect();
    let [weekday, day, month, year, clock, "GMT"] = parts.as_slice() else {
        return None;
    };
    if weekday.len() != 4 || !weekday.ends_with(',') || day.len() != 2 || year.len() != 4 {
        return None;
    }

    let month = match *month {
        "Jan" => Month::January,
        "Feb" => Month::February,
        "Mar" => Month::March,
        "Apr" => Month::April,
        "May" => Month::May,
        "Jun" => Month::June,
        "Jul" => Month::July,
        "Aug" => Month::August,
        "Sep" => Month::September,
        "Oct" => Month::October,
        "Nov" => Month::November,
        "Dec" => Month::December,
        _ => return None,
    };
    let date = Date::from_calendar_date(number(year)?, month, number(day)?).ok()?;

    let hms: Vec<&str> = clock.split(':').collect();
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if [h, m, s].iter().any(|p| p.len() != 2) {
        return None;
    }
    let time = Time::from_hms(number(h)?, number(m)?, number(s)?).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

fn number<N: std::str::FromStr>(digits: &str) -> Option<N> {
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::error::{ApiError, CallInfo, TimeoutError, TransportError, TransportKind};

    /// A clock that only moves when the loop sleeps, or when an attempt says it took time.
    struct FakeClock {
        start: Instant,
        offset: Cell<Duration>,
        sleeps: RefCell<Vec<Duration>>,
        random: f64,
    }

    impl FakeClock {
        fn new(random: f64) -> Self {
            FakeClock {
                start: Instant::now(),
                offset: Cell::new(Duration::ZERO),
                sleeps: RefCell::new(Vec::new()),
                random,
            }
        }

        fn advance(&self, by: Duration) {
            self.offset.set(self.offset.get().saturating_add(by));
        }

        fn sleeps(&self) -> Vec<Duration> {
            self.sleeps.borrow().clone()
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            // Saturates, for the tests of extreme waits: the real clock never gets there.
            let far = self.start + Duration::from_secs(1 << 40);
            self.start
                .checked_add(self.offset.get())
                .map_or(far, |t| t.min(far))
        }

        fn sleep(&self, duration: Duration) {
            self.sleeps.borrow_mut().push(duration);
            self.advance(duration);
        }

        fn random(&self) -> f64 {
            self.random
        }
    }

    fn api(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Api(Box::new(ApiError {
            status,
            errors: Vec::new(),
            meta: None,
            clerk_trace_id: None,
            retry_after,
            call: CallInfo::default(),
        }))
    }

    fn transport(kind: TransportKind) -> Error {
        Error::Transport(Box::new(TransportError {
            kind,
            call: CallInfo::default(),
            source: ureq::Error::ConnectionFailed,
        }))
    }

    fn timeout(phase: TimeoutPhase) -> Error {
        Error::Timeout(Box::new(TimeoutError {
            phase,
            limit: Duration::from_secs(1),
            call: CallInfo::default(),
        }))
    }

    /// Runs the loop against an endless supply of `error`, returning the waits and the error.
    fn run_always(
        policy: &RetryConfig,
        idempotent: bool,
        clock: &FakeClock,
        error: impl Fn() -> Error,
    ) -> (Vec<Duration>, Error) {
        let result: Result<((), CallInfo), Error> = run(policy, idempotent, clock, || Err(error()));
        (clock.sleeps(), result.unwrap_err())
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn default_schedule_is_exact_without_jitter_and_stops_at_the_budget() {
        let clock = FakeClock::new(0.0);
        let (waits, error) = run_always(&RetryConfig::default(), true, &clock, || api(503, None));

        let expected: Vec<Duration> = [500.0, 750.0, 1125.0, 1687.5, 2531.25, 3796.875, 5695.3125]
            .iter()
            .chain(&[8542.96875])
            .map(|m| Duration::from_secs_f64(m / 1000.0))
            .collect();
        assert_eq!(waits, expected);

        // The ninth wait (12.8 s) would end past the 30 s budget, at 37.4 s.
        let call = error.call_info().unwrap();
        assert_eq!(call.attempts, 9);
        assert_eq!(call.elapsed, expected.iter().sum::<Duration>());
    }

    #[test]
    fn waits_are_capped_at_max_interval() {
        let clock = FakeClock::new(0.0);
        let policy = RetryConfig::default()
            .initial_interval(ms(100))
            .exponent(10.0)
            .max_interval(ms(2_000))
            .max_attempts(6);
        let (waits, error) = run_always(&policy, true, &clock, || api(500, None));
        assert_eq!(
            waits,
            vec![ms(100), ms(1_000), ms(2_000), ms(2_000), ms(2_000)]
        );
        assert_eq!(error.attempts(), 6);
    }

    #[test]
    fn attempt_cap_counts_the_first_request() {
        let clock = FakeClock::new(0.0);
        let (waits, error) = run_always(
            &RetryConfig::default().max_attempts(3),
            true,
            &clock,
            || api(502, None),
        );
        assert_eq!(waits, vec![ms(500), ms(750)]);
        assert_eq!(error.attempts(), 3);
    }

    #[test]
    fn none_makes_one_attempt() {
        let clock = FakeClock::new(0.0);
        let (waits, error) = run_always(&RetryConfig::none(), true, &clock, || api(503, None));
        assert!(waits.is_empty());
        assert_eq!(error.attempts(), 1);
    }

    #[test]
    fn time_spent_in_attempts_counts_against_the_budget() {
        let clock = FakeClock::new(0.0);
        let policy = RetryConfig::default().max_elapsed(ms(10_000));
        let result: Result<((), CallInfo), Error> = run(&policy, true, &clock, || {
            clock.advance(ms(4_000));
            Err(api(503, None))
        });
        // 4 s + 0.5 s wait + 4 s = 8.5 s; the next wait (0.75 s) ends at 9.25 s, within the
        // budget; after the third attempt (13.25 s) no wait can start.
        assert_eq!(clock.sleeps(), vec![ms(500), ms(750)]);
        let call = result.unwrap_err().call_info().unwrap();
        assert_eq!(call.attempts, 3);
        assert_eq!(call.elapsed, ms(13_250));
    }

    #[test]
    fn jitter_shortens_waits_within_bounds() {
        for random in [0.0, 0.5, 0.999_999] {
            let clock = FakeClock::new(random);
            let policy = RetryConfig::default().max_attempts(4);
            let (waits, _) = run_always(&policy, true, &clock, || api(503, None));
            for (wait, full) in waits.iter().zip([500.0, 750.0, 1125.0]) {
                let full = Duration::from_secs_f64(full / 1000.0);
                assert!(
                    *wait <= full && *wait >= full.mul_f64(0.75),
                    "{wait:?} vs {full:?}"
                );
            }
        }
        let clock = FakeClock::new(0.5);
        let (waits, _) = run_always(
            &RetryConfig::default().max_attempts(2),
            true,
            &clock,
            || api(503, None),
        );
        assert_eq!(waits, vec![Duration::from_secs_f64(0.4375)]);
    }

    #[test]
    fn retry_after_replaces_backoff_and_is_clamped() {
        let clock = FakeClock::new(0.9);
        let policy = RetryConfig::default()
            .max_attempts(3)
            .max_interval(ms(5_000));
        let mut answers = vec![api(429, Some(ms(7_000))), api(429, Some(ms(1_000)))].into_iter();
        let result: Result<((), CallInfo), Error> = run(&policy, false, &clock, || {
            Err(answers.next().unwrap_or_else(|| api(429, None)))
        });
        assert_eq!(clock.sleeps(), vec![ms(5_000), ms(1_000)]);
        assert_eq!(result.unwrap_err().attempts(), 3);
    }

    #[test]
    fn retry_after_shorter_than_the_backoff_never_shortens_the_wait() {
        let clock = FakeClock::new(0.0);
        let policy = RetryConfig::default().max_attempts(4);
        let (waits, _) = run_always(&policy, true, &clock, || api(429, Some(Duration::ZERO)));
        assert_eq!(waits, vec![ms(500), ms(750), ms(1_125)]);

        let clock = FakeClock::new(0.0);
        let (waits, _) = run_always(&policy, true, &clock, || api(503, Some(ms(600))));
        assert_eq!(waits, vec![ms(600), ms(750), ms(1_125)]);
    }

    #[test]
    fn retry_after_past_the_budget_stops_at_once_and_is_exposed() {
        let clock = FakeClock::new(0.0);
        let (waits, error) = run_always(&RetryConfig::default(), true, &clock, || {
            api(429, Some(Duration::from_secs(45)))
        });
        assert!(waits.is_empty());
        assert_eq!(error.attempts(), 1);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(45)));
    }

    #[test]
    fn other_client_errors_are_never_retried() {
        for status in [400, 401, 403, 404, 409, 422] {
            let clock = FakeClock::new(0.0);
            let (waits, error) =
                run_always(&RetryConfig::default(), true, &clock, || api(status, None));
            assert!(waits.is_empty(), "{status}");
            assert_eq!(error.attempts(), 1);
        }
    }

    #[test]
    fn failures_after_sending_are_retried_only_when_idempotent() {
        let policy = RetryConfig::default().max_attempts(3);
        for (idempotent, attempts) in [(true, 3), (false, 1)] {
            let clock = FakeClock::new(0.0);
            let (_, error) = run_always(&policy, idempotent, &clock, || {
                transport(TransportKind::ConnectionClosed)
            });
            assert_eq!(error.attempts(), attempts);
            assert!(error.may_have_been_applied());

            let clock = FakeClock::new(0.0);
            let (_, error) = run_always(&policy, idempotent, &clock, || {
                timeout(TimeoutPhase::Response)
            });
            assert_eq!(error.attempts(), attempts);
        }
    }

    #[test]
    fn failures_before_sending_are_retried_for_every_operation_unless_disabled() {
        let policy = RetryConfig::default().max_attempts(3);
        for kind in [
            TransportKind::ConnectionRefused,
            TransportKind::Dns,
            TransportKind::Tls,
        ] {
            let clock = FakeClock::new(0.0);
            let (_, error) = run_always(&policy, false, &clock, || transport(kind));
            assert_eq!(error.attempts(), 3);
            assert!(!error.may_have_been_applied());
        }
        let clock = FakeClock::new(0.0);
        let (_, error) = run_always(&policy, false, &clock, || timeout(TimeoutPhase::Connect));
        assert_eq!(error.attempts(), 3);

        let clock = FakeClock::new(0.0);
        let off = policy.retry_connection_errors(false);
        let (_, error) = run_always(&off, true, &clock, || {
            transport(TransportKind::ConnectionRefused)
        });
        assert_eq!(error.attempts(), 1);
    }

    #[test]
    fn extreme_intervals_do_not_panic() {
        let clock = FakeClock::new(0.0);
        let policy = RetryConfig::default()
            .initial_interval(Duration::MAX)
            .max_interval(Duration::MAX)
            .max_elapsed(Duration::MAX)
            .max_attempts(2);
        let (waits, error) = run_always(&policy, true, &clock, || api(503, None));
        assert_eq!(waits, vec![Duration::MAX]);
        assert_eq!(error.attempts(), 2);

        let policy = RetryConfig::default()
            .exponent(f64::MAX)
            .max_interval(Duration::MAX)
            .max_elapsed(Duration::MAX)
            .max_attempts(3);
        let clock = FakeClock::new(0.0);
        let (waits, _) = run_always(&policy, true, &clock, || api(503, None));
        assert_eq!(waits, vec![ms(500), Duration::MAX]);
    }

    #[test]
    fn bodies_over_the_limit_are_retried_by_their_status() {
        let too_large = |status| Error::ResponseTooLarge {
            retry_after: None,
            limit: 10,
            status,
            call: CallInfo::default(),
        };
        let policy = RetryConfig::default().max_attempts(3);
        for (status, attempts) in [(503, 3), (429, 3), (200, 1), (400, 1)] {
            let clock = FakeClock::new(0.0);
            let (_, error) = run_always(&policy, false, &clock, || too_large(status));
            assert_eq!(error.attempts(), attempts, "{status}");
        }
    }

    #[test]
    fn success_after_failures_is_ok() {
        let clock = FakeClock::new(0.0);
        let mut left = 2;
        let result = run(&RetryConfig::default(), false, &clock, || {
            if left == 0 {
                return Ok("done");
            }
            left -= 1;
            Err(api(503, None))
        });
        let (value, call) = result.unwrap();
        assert_eq!(value, "done");
        assert_eq!((call.attempts, call.elapsed), (3, ms(1_250)));
        assert_eq!(clock.sleeps(), vec![ms(500), ms(750)]);
    }

    #[test]
    fn retry_after_delta_seconds() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn retry_after_bad_values_are_ignored() {
        let now = SystemTime::UNIX_EPOCH;
        for value in [
            "-1",
            "1.5",
            "",
            "soon",
            "1e3",
            "+5",
            "Sun, 06 Nov 1994 08:49:37 UTC",
        ] {
            assert_eq!(parse_retry_after(value, now), None, "{value:?}");
        }
    }

    #[test]
    fn retry_after_http_date() {
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let before = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777 - 90);
        assert_eq!(
            parse_retry_after(date, before),
            Some(Duration::from_secs(90))
        );

        let after = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777 + 5);
        assert_eq!(parse_retry_after(date, after), Some(Duration::ZERO));

        assert_eq!(
            parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", before),
            None
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", before),
            None
        );
    }
}
