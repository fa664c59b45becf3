"""The benchmark's reference row: a chat server on Python's selectors, one thread.
Protocol subset: welcome, name (first line), hello with the count, joins announced while the room
has at most 100 people, and `NAME: line` to every other named client. Usage: chat_server.py ADDR"""
import selectors, socket, sys

sel = selectors.DefaultSelector()
host, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080").rsplit(":", 1)
server = socket.create_server((host, int(port)), backlog=1024)
server.setblocking(False)
sel.register(server, selectors.EVENT_READ)
print("listening on %s:%d" % server.getsockname()[:2], flush=True)
clients = {}  # socket -> [name or None, input bytes, output bytes]

def send(sock, data):
    out = clients[sock][2]
    if not out:  # nothing queued: try at once, queue what the kernel did not take
        try: data = data[sock.send(data):]
        except BlockingIOError: pass
        except OSError: return
        if data: sel.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    out += data

def on_line(sock, line):
    me = clients[sock]
    if me[0] is None:
        named = [c for c in clients.values() if c[0] is not None]
        me[0] = line.strip() or b"anon"
        send(sock, b"* hello %s; others here: %d\n" % (me[0], len(named)))
        if len(named) + 1 <= 100:
            for s, c in list(clients.items()):
                if c[0] is not None and s is not sock: send(s, b"* %s joined\n" % me[0])
    elif line:
        for s, c in list(clients.items()):
            if c[0] is not None and s is not sock: send(s, me[0] + b": " + line + b"\n")

while True:
    for key, events in sel.select():
        sock = key.fileobj
        if sock is server:
            conn, _ = server.accept(); conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle wait for ACKs
            sel.register(conn, selectors.EVENT_READ); clients[conn] = [None, bytearray(), bytearray()]
            send(conn, b"* welcome; send your name\n")
            continue
        if sock not in clients: continue
        try:
            if events & selectors.EVENT_WRITE:
                out = clients[sock][2]; del out[:sock.send(out)]
                if not out: sel.modify(sock, selectors.EVENT_READ)
            data = sock.recv(65536) if events & selectors.EVENT_READ else b"-"
        except BlockingIOError: continue
        except OSError: data = b""
        if not data:
            sel.unregister(sock); sock.close(); del clients[sock]; continue
        if events & selectors.EVENT_READ:
            buf = clients[sock][1]; buf += data
            while (i := buf.find(b"\n")) >= 0:
                line = bytes(buf[:i]).rstrip(b"\r"); del buf[:i + 1]
                on_line(sock, line)
