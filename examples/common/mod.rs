//! What the command-line examples share: flag parsing, the client, and how they fail.
//!
//! Each tool prints its result as `name: value` lines on stdout, notes on stderr, and on
//! failure one line on stderr with exit status 2 for bad input and 1 for a failed call.

// Each example uses part of this module.
#![allow(dead_code)]

use std::fmt;
use std::process::ExitCode;

use clerk_management::testing::StandIn;
use clerk_management::{Error, ManagementClient, TOKEN_ENV};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Why a tool stopped.
pub enum Failure {
    /// The command line is wrong: exit status 2.
    Usage(String),
    /// The call (or the setup) failed: exit status 1.
    Call(String),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        // Clerk's short messages ("is invalid") need the long one, which names the field.
        let Error::Api(api) = &error else {
            // The causes (ureq's error, the OS's) say what the summary cannot: which host,
            // which TLS alert.
            let mut message = error.to_string();
            let mut cause = std::error::Error::source(&error);
            while let Some(inner) = cause {
                message.push_str(&format!(": {inner}"));
                cause = inner.source();
            }
            return Failure::Call(message);
        };
        let first = api.errors.first();
        let detail = first
            .and_then(|e| e.long_message.as_deref())
            .or(api.message())
            .unwrap_or("no error message");
        Failure::Call(format!(
            "{detail} (status {}, code {}, trace id {})",
            api.status,
            api.code().unwrap_or("-"),
            api.clerk_trace_id.as_deref().unwrap_or("-"),
        ))
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Call(error.to_string())
    }
}

/// Runs a tool that takes the flags `valued` (each with a value) and `switches` (without),
/// besides `--help` and `--stand-in`: `--help` prints `help`; an error is one line on stderr
/// and a non-zero exit status.
pub fn main(
    tool: &str,
    help: &str,
    valued: &[&str],
    switches: &[&str],
    run: impl FnOnce(&Args) -> Result<(), Failure>,
) -> ExitCode {
    let mut switches = switches.to_vec();
    switches.push("stand-in");
    let args = match Args::parse(std::env::args().skip(1), valued, &switches) {
        Ok(args) => args,
        Err(message) => return fail(tool, &Failure::Usage(message)),
    };
    if args.help {
        print!("{help}");
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(tool, &failure),
    }
}

fn fail(tool: &str, failure: &Failure) -> ExitCode {
    let (message, code) = match failure {
        Failure::Usage(message) => (format!("{message} (see --help)"), 2),
        Failure::Call(message) => (message.clone(), 1),
    };
    // One line, whatever the message holds, so that a build script can show it as it is.
    let message = message.replace(['\r', '\n'], " ");
    eprintln!("{tool}: error: {message}");
    ExitCode::from(code)
}

/// The command line, checked against the flags the tool knows before anything is sent.
pub struct Args {
    help: bool,
    values: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Args {
    fn parse(
        raw: impl Iterator<Item = String>,
        valued: &[&str],
        switches: &[&str],
    ) -> Result<Args, String> {
        let mut raw = raw.peekable();
        let mut args = Args {
            help: false,
            values: Vec::new(),
            switches: Vec::new(),
        };
        while let Some(arg) = raw.next() {
            if arg == "--help" || arg == "-h" {
                args.help = true;
                continue;
            }
            let Some(flag) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (flag, None),
            };
            if switches.contains(&name) {
                if inline.is_some() {
                    return Err(format!("--{name} takes no value"));
                }
                args.switches.push(name.to_owned());
            } else if valued.contains(&name) {
                let value = match inline {
                    Some(value) => value,
                    None => raw
                        .next()
                        .ok_or_else(|| format!("--{name} needs a value"))?,
                };
                args.values.push((name.to_owned(), value));
            } else {
                return Err(format!("unknown flag --{name}"));
            }
        }
        Ok(args)
    }

    /// Every value of a repeatable flag, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The value of a flag given at most once.
    pub fn optional(&self, name: &str) -> Result<Option<String>, Failure> {
        let mut values = self.all(name);
        if values.len() > 1 {
            return Err(Failure::Usage(format!("--{name} is given more than once")));
        }
        Ok(values.pop())
    }

    /// The value of a flag given exactly once.
    pub fn required(&self, name: &str) -> Result<String, Failure> {
        self.optional(name)?
            .ok_or_else(|| Failure::Usage(format!("--{name} is required")))
    }

    /// An optional flag read with `parse`; a failure names the flag and the value.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, Failure> {
        match self.optional(name)? {
            None => Ok(None),
            Some(value) => parse(&value)
                .map(Some)
                .map_err(|why| Failure::Usage(format!("--{name} {value:?} {why}"))),
        }
    }

    /// Whether a switch was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }
}

/// The client to use: a fresh local stand-in with `--stand-in`, else the environment's.
///
/// The stand-in is returned too, since it stops when dropped.
pub fn client(args: &Args) -> Result<(ManagementClient, Option<StandIn>), Failure> {
    if args.switch("stand-in") {
        let stand_in = StandIn::start()?;
        eprintln!("note: using a local stand-in at {}", stand_in.base_url());
        let client = stand_in.client()?;
        return Ok((client, Some(stand_in)));
    }
    if std::env::var_os(TOKEN_ENV).is_none() {
        return Err(Failure::Call(format!(
            "{TOKEN_ENV} is not set: set it to your management token, or pass --stand-in to \
             try the tool against a local stand-in"
        )));
    }
    Ok((ManagementClient::from_env()?, None))
}

pub fn unsigned(value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| "must be a whole number from 0 to 4294967295".to_owned())
}

pub fn boolean(value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

pub fn json_object(value: &str) -> Result<serde_json::Value, String> {
    match serde_json::from_str(value) {
        Ok(object @ serde_json::Value::Object(_)) => Ok(object),
        Ok(_) => Err("must be a JSON object, such as {\"plan\":\"pro\"}".to_owned()),
        Err(e) => Err(format!("is not JSON: {e}")),
    }
}

/// An RFC 3339 date-time with a zone, such as `2024-04-10T20:37:41.925Z`.
pub fn date_time(value: &str) -> Result<OffsetDateTime, String> {
    let bad = || "must be an RFC 3339 date-time such as 2024-04-10T20:37:41Z".to_owned();
    let (date, rest) = value.split_once('T').ok_or_else(bad)?;
    let number = |text: &str, len: usize| -> Result<u32, String> {
        match text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
            true => text.parse().map_err(|_| bad()),
            false => Err(bad()),
        }
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };

    let zone_at = rest.find(['Z', '+', '-']).ok_or_else(bad)?;
    let (clock, zone) = rest.split_at(zone_at);
    let (clock, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = clock.split(':');
    let (Some(h), Some(min), Some(s), None) = (hms.next(), hms.next(), hms.next(), hms.next())
    else {
        return Err(bad());
    };
    let nanos = match fraction {
        "" => 0,
        digits if digits.len() <= 9 => {
            number(digits, digits.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return Err(bad()),
    };
    let offset = match zone {
        "Z" => UtcOffset::UTC,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (oh, om) = zone[1..].split_once(':').ok_or_else(bad)?;
            let (oh, om) = (number(oh, 2)? as i8, number(om, 2)? as i8);
            UtcOffset::from_hms(sign * oh, sign * om, 0).map_err(|_| bad())?
        }
    };

    let month = Month::try_from(number(m, 2)? as u8).map_err(|_| bad())?;
    let date = Date::from_calendar_date(number(y, 4)? as i32, month, number(d, 2)? as u8)
        .map_err(|_| bad())?;
    let time = Time::from_hms_nano(
        number(h, 2)? as u8,
        number(min, 2)? as u8,
        number(s, 2)? as u8,
        nanos,
    )
    .map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// `name: value` lines, names aligned.
pub struct Lines(Vec<(String, String)>);

impl Lines {
    pub fn new() -> Self {
        Lines(Vec::new())
    }

    pub fn add(mut self, name: impl Into<String>, value: impl fmt::Display) -> Self {
        self.0.push((name.into(), value.to_string()));
        self
    }
}

impl fmt::Display for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.0.iter().map(|(n, _)| n.len()).max().unwrap_or(0) + 1;
        for (name, value) in &self.0 {
            writeln!(f, "{:width$} {value}", format!("{name}:"))?;
        }
        Ok(())
    }
}

/// A Unix-millisecond timestamp as RFC 3339, or the number if it is out of range.
pub fn millis(value: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    clerk_management::datetime_from_millis(value)
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| value.to_string())
}
