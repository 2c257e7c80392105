//! Finding and running the external tools (Verilator, Yosys, Icarus) with clear errors.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The external tools the flow checks designs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Verilator,
    Yosys,
    Iverilog,
    Vvp,
    /// iCE40 place and route, for the Fmax of `tetris synth --target ice40`.
    NextpnrIce40,
    /// OpenSTA: static timing and power on a standard-cell library (`tetris power`).
    Sta,
    /// GNU make: builds Verilator's generated makefiles.
    Make,
}

impl Tool {
    pub fn binary(self) -> &'static str {
        match self {
            Tool::Verilator => "verilator",
            Tool::Yosys => "yosys",
            Tool::Iverilog => "iverilog",
            Tool::Vvp => "vvp",
            Tool::NextpnrIce40 => "nextpnr-ice40",
            Tool::Sta => "sta",
            Tool::Make => "make",
        }
    }

    fn version_args(self) -> &'static [&'static str] {
        match self {
            Tool::Verilator | Tool::Yosys | Tool::NextpnrIce40 | Tool::Make => &["--version"],
            Tool::Iverilog => &["-V"],
            Tool::Vvp => &["-V"],
            Tool::Sta => &["-version"],
        }
    }

    /// Full path of the tool, or an error saying how to install it.
    pub fn find(self) -> Result<PathBuf> {
        let name = self.binary();
        if let Some(p) = on_path(name) {
            return Ok(p);
        }
        bail!(
            "`{name}` was not found on PATH; run scripts/install-tools.sh (installs verilator, \
             yosys, iverilog, nextpnr-ice40, OpenSTA `sta` and the osu018 library)"
        )
    }

    /// First line of the tool's version output, e.g. "Verilator 5.006 2023-01-22".
    pub fn version(self) -> Result<String> {
        let out = Command::new(self.find()?)
            .args(self.version_args())
            .output()
            .with_context(|| format!("cannot run {}", self.binary()))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        Ok(text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string())
    }
}

/// The program `name` on PATH, if there is one.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Output of a finished tool run.
#[derive(Debug, Clone)]
pub struct ToolRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl ToolRun {
    pub fn log(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Run `tool args..` in `dir`; kill it after `limit` (an error saying so).
pub fn run_with_timeout(
    tool: Tool,
    args: &[&str],
    dir: &Path,
    limit: std::time::Duration,
) -> Result<ToolRun> {
    match run_within(tool, args, dir, limit)? {
        Some(run) => Ok(run),
        None => bail!(
            "{} gave no answer within {:.0} s and was stopped (raise the time limit or shrink the problem)",
            tool.binary(),
            limit.as_secs_f64()
        ),
    }
}

/// Run `tool args..` in `dir`; `None` when it was still running after `limit` and was killed.
pub fn run_within(
    tool: Tool,
    args: &[&str],
    dir: &Path,
    limit: std::time::Duration,
) -> Result<Option<ToolRun>> {
    use std::io::Read;
    let bin = tool.find()?;
    let mut child = Command::new(&bin)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Ok(Some(ToolRun {
        ok: status.success(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }))
}

/// Run `tool args..` in `dir`.
pub fn run(tool: Tool, args: &[&str], dir: &Path) -> Result<ToolRun> {
    let bin = tool.find()?;
    let out = Command::new(&bin)
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    Ok(ToolRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
