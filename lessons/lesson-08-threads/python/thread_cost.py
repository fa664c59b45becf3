"""What a client costs the thread-per-client server, measured: chapter 8's deep dive.

Usage: python3 thread_cost.py N PATH-TO-lesson-08   (Linux: it reads /proc)
Starts the server on an ephemeral port, connects N clients that each send a name, and prints
how much the server's threads, memory and the kernel's thread stacks grew. The clients never
leave until the end, so every reader and writer thread is alive when it measures.
"""
import re, resource, socket, subprocess, sys

n, exe = int(sys.argv[1]), sys.argv[2]
# N sockets here, N in the server: both need that many file descriptors.
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, max(n + 100, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
server = subprocess.Popen([exe, "server", "127.0.0.1:0", "--max-clients", str(n)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
port = int(server.stdout.readline().rsplit(":", 1)[1])

def measure():
    status = open(f"/proc/{server.pid}/status").read()
    meminfo = open("/proc/meminfo").read()
    field = lambda text, key: int(re.search(key + r":\s+(\d+)", text).group(1))
    return (field(status, "Threads"), field(status, "VmRSS"), field(status, "VmSize"),
            field(meminfo, "KernelStack"))

before = measure()
clients = []
for i in range(n):
    conn = socket.create_connection(("127.0.0.1", port))
    conn.settimeout(10)
    conn.recv(100)  # the welcome: the server has started this client's threads
    conn.sendall(f"c{i}\n".encode())
    clients.append(conn)
clients[-1].recv(100)  # the last hello: every thread has read a line
after = measure()
server.terminate()
server.wait()
threads, rss, virtual, kernel = (a - b for a, b in zip(after, before))
print(f"{n} clients: {threads} threads more")
print(f"  resident memory (RSS): +{rss / 1024:.1f} MiB, {rss / n:.1f} KiB a client")
print(f"  address space:         +{virtual / 1024:.0f} MiB, {virtual / n:.0f} KiB a client")
print(f"  kernel stacks:         +{kernel / 1024:.1f} MiB, {kernel / n:.1f} KiB a client"
      " (the whole machine's; other programs' threads count too)")
