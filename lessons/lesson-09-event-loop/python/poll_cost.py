"""What one poll call costs with 10,000 idle sockets, against one epoll call (Linux only):
both return at once, as nothing is ready; poll still checks every socket, epoll does not.

    python3 lessons/lesson-09-event-loop/python/poll_cost.py
"""
import socket, select, time, resource
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
pairs = [socket.socketpair() for _ in range(5000)]
fds = [s for p in pairs for s in p][:10000]
p = select.poll(); e = select.epoll()
for s in fds: p.register(s, select.POLLIN); e.register(s, select.EPOLLIN)
for name, f in [("poll", lambda: p.poll(0)), ("epoll", lambda: e.poll(0))]:
    f(); t = time.perf_counter()
    for _ in range(1000): f()
    print(f"{name}: {len(fds)} idle sockets, one call: {(time.perf_counter()-t)*1000:.1f} µs")
