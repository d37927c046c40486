use clap::Parser;
use server::cli::{Args, Command};
use server::signals::{Ending, SignalWatch};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = Args::parse();
    if let Some(Command::Token {
        user,
        auth_secret_file,
        ttl,
    }) = args.command.take()
    {
        return match server::cli::resolve_secret(auth_secret_file) {
            Ok(Some(secret)) => {
                println!("{}", secret.mint(user, ttl));
                ExitCode::SUCCESS
            }
            Ok(None) => usage("token: give --auth-secret-file FILE or set $EVLOOP_AUTH_SECRET"),
            Err(e) => usage(&e),
        };
    }
    let cfg = match args.into_config() {
        Ok(cfg) => cfg,
        Err(e) => return usage(&e),
    };
    #[cfg(feature = "calibration-slowdown")]
    match server::calibration::cost() {
        Ok(cost) => eprintln!("server: calibration build: {cost:?} extra per request"),
        Err(e) => return usage(&e),
    }
    let workers = cfg.workers;
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    let run = || -> std::io::Result<Ending> {
        let signals = SignalWatch::new()?;
        let handle = server::start(cfg)?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "listening on {scheme}://{} ({workers} workers)",
            handle.addr()
        )?;
        out.flush()?;
        drop(out);
        let ending = signals.run(&handle)?;
        let per_worker = handle.worker_stats();
        eprintln!("server: {}", server::Stats::sum(&per_worker));
        if per_worker.len() > 1 {
            for (i, stats) in per_worker.iter().enumerate() {
                eprintln!("server:   worker {i}: {stats}");
            }
        }
        if ending == Ending::Graceful {
            handle.join()?;
        }
        Ok(ending)
    };
    match run() {
        Ok(Ending::Graceful) => ExitCode::SUCCESS,
        Ok(Ending::Forced(code)) => std::process::exit(code),
        Err(e) => {
            eprintln!("server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
