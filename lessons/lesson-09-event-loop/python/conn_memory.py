"""What one connection costs lesson 9's server in memory: start the server, read its resident
set size (VmRSS in /proc, Linux only), connect N clients that each send a name and get their
hello line, and read it again.

    cargo build -p lesson-09
    python3 lessons/lesson-09-event-loop/python/conn_memory.py target/debug/lesson-09 5000
"""
import resource, socket, subprocess, sys

binary, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5000
# One descriptor per client here, one per connection in the server (which inherits the limit).
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, n + 100))
server = subprocess.Popen([binary, "server", "127.0.0.1:0", "--max-clients", str(n)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def rss_kib():
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


try:
    host, port = server.stdout.readline().split()[-1].rsplit(":", 1)
    before = rss_kib()
    clients = []
    for i in range(n):
        c = socket.create_connection((host, int(port)), timeout=10)
        c.sendall(f"c{i}\n".encode())
        clients.append(c)
    # Each client reads until its hello line: then the server has named every one of them.
    for i, c in enumerate(clients):
        got = b""
        while b"* hello" not in got:
            more = c.recv(65536)
            if not more:
                sys.exit(f"client {i} was closed: {got!r}")
            got += more
    after = rss_kib()
    print(f"{n} named clients: RSS {before} KiB before, {after} KiB after, "
          f"{(after - before) * 1024 / n:.0f} bytes a connection")
finally:
    server.kill()
    server.wait()
