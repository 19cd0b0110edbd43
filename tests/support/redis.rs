//! Real `redis-server` processes for the tests: a single server (started,
//! stopped and restarted on the same port for fault tests), a three-master
//! cluster, and `redis-cli` to look at what they hold.
//!
//! Every redis-server runs under a small `sh` watchdog whose stdin is a pipe
//! this process holds: when the pipe closes (stop, drop, or this process dying
//! in any way, statics included) the watchdog SIGKILLs its redis-server. So no
//! redis-server outlives the test binary, without any `unsafe`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a server has to answer PING, and a cluster to be `cluster_state:ok`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs "$@" in the background; kills it when stdin reaches EOF; exits when
/// it exits (so an early exit is seen by `try_wait`). A background job's stdin
/// is /dev/null, hence the pipe is handed over as fd 3.
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null 3<&- &
pid=$!
{ cat <&3 >/dev/null; kill -9 "$pid" 2>/dev/null; } &
exec 3<&-
wait "$pid""#;

/// A command that runs `program` under the watchdog: stdin is piped, and the
/// program is SIGKILLed as soon as that pipe closes (keep `child.stdin` open
/// for as long as the program should live; this process dying closes it).
pub fn guarded(program: &str) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(WATCHDOG)
        .arg("watchdog") // $0
        .arg(program)
        .stdin(Stdio::piped());
    command
}

pub struct RedisServer {
    port: u16,
    /// Extra arguments (the cluster's), passed on every (re)start.
    extra: Vec<String>,
    dir: tempfile::TempDir,
    process: Option<(Child, ChildStdin)>,
}

impl RedisServer {
    /// A standalone redis-server on a free loopback port.
    pub fn start() -> RedisServer {
        RedisServer::start_with(|_| Vec::new())
    }

    /// Tries a few free ports (another process may take a port between our
    /// probe and redis-server's bind); `extra` gives arguments for its folder.
    fn start_with(extra: impl Fn(&Path) -> Vec<String>) -> RedisServer {
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("scopegate-redis-")
                .tempdir()
                .unwrap();
            let mut server = RedisServer {
                port: free_port(),
                extra: extra(dir.path()),
                dir,
                process: None,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(log) => last = log,
            }
        }
        panic!("redis-server did not start on any of 5 ports; last log:\n{last}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `redis://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `redis://USER:PASSWORD@127.0.0.1:PORT`
    pub fn url_as(&self, user: &str, password: &str) -> String {
        format!("redis://{user}:{password}@127.0.0.1:{}", self.port)
    }

    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// Kills redis-server (SIGKILL, as a crash) and waits for it to be gone.
    pub fn stop(&mut self) {
        let Some((mut child, stdin)) = self.process.take() else {
            return;
        };
        drop(stdin); // EOF: the watchdog kills redis-server, waits for it and exits
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {} still running 10 s after stop",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts redis-server again on the same port (empty: nothing is saved).
    pub fn restart(&mut self) {
        self.stop();
        // The port was ours a moment ago; retry briefly in case it lingers.
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(log) if Instant::now() > deadline => {
                    panic!("redis-server did not restart on {}:\n{log}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// `redis-cli -p PORT ARGS...`: its stdout without the final newline.
    /// Panics when redis-cli fails or the reply is an error.
    pub fn cli(&self, args: &[&str]) -> String {
        cli(self.port, args)
    }

    /// Creates (or replaces) an ACL user: `ACL SETUSER name reset on >password rules...`.
    pub fn acl_user(&self, name: &str, password: &str, rules: &[&str]) {
        let password = format!(">{password}");
        let mut args = vec!["ACL", "SETUSER", name, "reset", "on", &password];
        args.extend_from_slice(rules);
        assert_eq!(self.cli(&args), "OK", "ACL SETUSER {name}");
    }

    /// Every key redis holds, byte for byte (SCAN over RESP, not redis-cli,
    /// whose output cannot show keys with newlines).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut keys = Vec::new();
        let mut cursor = b"0".to_vec();
        for _ in 0..100_000 {
            let reply = self.command(&[b"SCAN", &cursor, b"COUNT", b"1000"]);
            let Resp::Array(mut parts) = reply else {
                panic!("SCAN: {reply:?}")
            };
            let (Resp::Array(batch), Resp::Bulk(next)) = (parts.remove(1), parts.remove(0)) else {
                panic!("SCAN reply shape")
            };
            keys.extend(batch.into_iter().map(|k| match k {
                Resp::Bulk(k) => k,
                other => panic!("SCAN key: {other:?}"),
            }));
            if next == b"0" {
                return keys;
            }
            cursor = next;
        }
        panic!("SCAN did not finish")
    }

    /// The number of keys (DBSIZE).
    pub fn dbsize(&self) -> i64 {
        match self.command(&[b"DBSIZE"]) {
            Resp::Int(n) => n,
            other => panic!("DBSIZE: {other:?}"),
        }
    }

    /// `calls` of each command in `INFO commandstats` (e.g. "set", "client|setname").
    pub fn command_calls(&self) -> std::collections::BTreeMap<String, u64> {
        let Resp::Bulk(info) = self.command(&[b"INFO", b"commandstats"]) else {
            panic!("INFO")
        };
        String::from_utf8(info)
            .unwrap()
            .lines()
            .filter_map(|line| {
                let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = stats.strip_prefix("calls=")?.split(',').next()?;
                Some((name.to_owned(), calls.parse().ok()?))
            })
            .collect()
    }

    /// One command over a fresh connection (binary-safe), as the default user.
    pub fn command(&self, args: &[&[u8]]) -> Resp {
        command(self.port, args)
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// Spawns the watchdog and waits until PING answers; on failure, kills it
    /// and returns the log.
    fn spawn(&mut self) -> Result<(), String> {
        let _ = std::fs::remove_file(self.log_path());
        let dir = self.dir.path().to_str().unwrap().to_owned();
        let log = self.log_path().to_str().unwrap().to_owned();
        let port = self.port.to_string();
        let mut args: Vec<&str> = vec![
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            &dir,
            "--logfile",
            &log,
        ];
        args.extend(self.extra.iter().map(String::as_str));
        let mut child = guarded("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh");
        let stdin = child.stdin.take().unwrap();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ping(self.port) {
                self.process = Some((child, stdin));
                return Ok(());
            }
            if let Some(status) = child.try_wait().unwrap() {
                // Close the pipe first: the watchdog's reader holds stderr until then.
                drop(stdin);
                let mut stderr = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
                assert!(
                    !stderr.contains("redis-server: not found")
                        && !stderr.contains("redis-server: command not found"),
                    "redis-server is not installed (scripts/test.sh installs it: \
                     apt-get install -y redis-server)"
                );
                return Err(format!("exited with {status}: {stderr}\n{}", self.log()));
            }
            if Instant::now() > deadline {
                drop(stdin);
                let _ = child.wait();
                return Err(format!("no PONG within {START_TIMEOUT:?}\n{}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.stop();
        } else if let Some((child, stdin)) = self.process.take() {
            // Don't wait (or panic again) while unwinding; EOF still kills it.
            drop((child, stdin));
        }
    }
}

/// One redis-server per test binary, started on first use, for tests that
/// just need a Redis (give each gateway its own namespace).
pub fn shared() -> &'static RedisServer {
    static SHARED: OnceLock<RedisServer> = OnceLock::new();
    SHARED.get_or_init(RedisServer::start)
}

/// Three masters (no replicas) joined into one cluster, all slots covered.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start() -> RedisCluster {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(|dir| {
                    // The cluster bus gets its own free port (PORT + 10000 may not exist).
                    let bus = free_port().to_string();
                    let file = dir.join("nodes.conf").to_str().unwrap().to_owned();
                    let args = ["--cluster-enabled", "yes", "--cluster-port", &bus];
                    let args = args.iter().map(|a| a.to_string());
                    args.chain(["--cluster-config-file".into(), file]).collect()
                })
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        let out = Command::new("redis-cli")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli is not installed (scripts/test.sh installs redis-server)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("All 16384 slots covered"),
            "redis-cli --cluster create failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = RedisCluster { nodes };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.nodes.iter().all(|n| {
            n.cli(&["CLUSTER", "INFO"])
                .lines()
                .any(|l| l.trim() == "cluster_state:ok")
        }) {
            assert!(
                Instant::now() < deadline,
                "cluster not ok within 20 s: {:?}",
                cluster.nodes[0].cli(&["CLUSTER", "INFO"])
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    /// The nodes' `redis://` urls.
    pub fn seeds(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// Every key of every node.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.nodes.iter().flat_map(RedisServer::keys).collect()
    }
}

/// `redis-cli -p PORT ARGS...` as text, see [`RedisServer::cli`].
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = String::from_utf8(run_cli(port, args)).expect("UTF-8 reply");
    let out = out.strip_suffix('\n').unwrap_or(&out).to_owned();
    assert!(
        !out.starts_with("ERR") && !out.starts_with("NOPERM") && !out.starts_with("WRONGPASS"),
        "redis-cli {args:?}: {out}"
    );
    out
}

fn run_cli(port: u16, args: &[&str]) -> Vec<u8> {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli is not installed (scripts/test.sh installs redis-server)");
    assert!(
        out.status.success(),
        "redis-cli {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Resp>),
}

/// One command on a fresh connection to 127.0.0.1:`port`, bounded by 5 s.
pub fn command(port: u16, args: &[&[u8]]) -> Resp {
    let mut stream = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap_or_else(|e| panic!("redis on {port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        request.extend_from_slice(arg);
        request.extend_from_slice(b"\r\n");
    }
    stream.write_all(&request).unwrap();
    read_resp(&mut std::io::BufReader::new(stream))
}

fn read_resp(reader: &mut impl std::io::BufRead) -> Resp {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).unwrap();
    let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    match line[0] {
        b'+' => Resp::Simple(text),
        b'-' => Resp::Error(text),
        b':' => Resp::Int(text.parse().unwrap()),
        b'$' if text == "-1" => Resp::Nil,
        b'$' => {
            let mut body = vec![0; text.parse::<usize>().unwrap() + 2];
            reader.read_exact(&mut body).unwrap();
            body.truncate(body.len() - 2);
            Resp::Bulk(body)
        }
        b'*' if text == "-1" => Resp::Nil,
        b'*' => Resp::Array(
            (0..text.parse::<usize>().unwrap())
                .map(|_| read_resp(reader))
                .collect(),
        ),
        other => panic!("not RESP: {:?}", other as char),
    }
}

/// A port the kernel just gave out (and took back) on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True when PING on the port answers +PONG within half a second.
/// (A cluster node answers PING before the cluster is formed.)
pub fn ping(port: u16) -> bool {
    let timeout = Duration::from_millis(500);
    let Ok(mut stream) =
        TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), timeout)
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}
