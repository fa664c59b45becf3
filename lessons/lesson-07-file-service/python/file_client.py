#!/usr/bin/env python3
"""A client for lesson 7's file protocol, written from the book's protocol page alone
(book/src/ch07-protocol.md), with nothing but Python's standard library.

    python3 file_client.py [--dir DIR] ADDR ls
    python3 file_client.py [--dir DIR] ADDR get NAME [NAME ...]
    python3 file_client.py [--dir DIR] ADDR put NAME [NAME ...]

ADDR is HOST:PORT, e.g. 127.0.0.1:8080. Files are read from and saved into DIR (default: the
current folder). Every command runs on one connection, one request at a time. The exit status is
0 when every command succeeded, 1 otherwise.
"""
import argparse
import hashlib
import json
import os
import socket
import struct
import sys
import tempfile

MAX_REPLY_HEADER = 16 * 1024 * 1024  # the page: an `ls` reply grows with the folder
CHUNK = 64 * 1024
UMASK = os.umask(0)
os.umask(UMASK)


def recv_exact(sock, n):
    """Exactly n bytes, or an error: TCP hands out bytes in whatever pieces it likes."""
    parts, left = [], n
    while left:
        part = sock.recv(min(left, CHUNK))
        if not part:  # b'' is the end of the stream: the server closed in the middle
            raise ConnectionError(f"the connection closed with {left} of {n} bytes missing")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def send_frame(sock, obj):
    """One frame: a 4-byte big-endian length ('>I', not the original's native 'i'), then JSON."""
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    sock.sendall(struct.pack(">I", len(body)) + body)  # sendall: send may send only part


def recv_frame(sock):
    (n,) = struct.unpack(">I", recv_exact(sock, 4))
    if n > MAX_REPLY_HEADER:
        raise ConnectionError(f"a reply header of {n} bytes is over the {MAX_REPLY_HEADER} limit")
    header = json.loads(recv_exact(sock, n).decode("utf-8"))
    if not isinstance(header, dict):
        raise ConnectionError("a reply header that is not a JSON object")
    return header


def check_name(name):
    """Names are names, not paths: the same rules the server applies, for our own folder."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"refused the name {name!r}: it must be one plain file name")
    return name


def get(sock, folder, name):
    send_frame(sock, {"command": "get", "name": name})
    header = recv_frame(sock)
    if "error" in header:
        return f"get {name}: refused: {header['error']}", False
    size = header["size"]
    digest = hashlib.md5()
    # Write beside the final name and rename only when the digest matches: a damaged or cut
    # transfer never leaves a file that looks whole. The name saved is the one we asked for,
    # never one taken from the reply.
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    os.chmod(temp, 0o666 & ~UMASK)  # mkstemp makes 0600; a saved file gets the usual mode
    try:
        with os.fdopen(fd, "wb") as out:
            left = size
            while left:
                part = sock.recv(min(left, CHUNK))
                if not part:
                    raise ConnectionError(f"the connection closed with {left} of {size} bytes missing")
                digest.update(part)
                out.write(part)
                left -= len(part)
        trailer = recv_frame(sock)
        if trailer.get("md5") != digest.hexdigest():
            os.unlink(temp)
            return f"get {name}: damaged on the way (md5 {digest.hexdigest()}, sent {trailer.get('md5')})", False
        os.replace(temp, os.path.join(folder, name))
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return f"got {name!r}: {size} bytes, md5 {digest.hexdigest()}", True


def put(sock, folder, name):
    path = os.path.join(folder, name)
    try:
        f = open(path, "rb")  # opened before the request: a missing file costs no round trip
    except OSError as e:
        return f"put {name}: cannot read {path}: {e.strerror}", False
    with f:
        size = os.fstat(f.fileno()).st_size
        send_frame(sock, {"command": "put", "name": name, "size": size})
        reply = recv_frame(sock)
        if "error" in reply:  # refused before the body: nothing more to send
            return f"put {name}: refused: {reply['error']}", False
        digest = hashlib.md5()
        left = size
        while left:  # exactly the size announced, even if the file changes meanwhile
            part = f.read(min(left, CHUNK))
            if not part:
                raise OSError(f"{path} shrank while it was being sent")
            digest.update(part)
            sock.sendall(part)
            left -= len(part)
    send_frame(sock, {"md5": digest.hexdigest()})
    reply = recv_frame(sock)
    if "error" in reply:
        return f"put {name}: not saved: {reply['error']}", False
    return f"put {name!r}: {reply['size']} bytes, md5 {reply['md5']}", True


def ls(sock):
    send_frame(sock, {"command": "ls"})
    reply = recv_frame(sock)
    if "error" in reply:
        return f"ls: refused: {reply['error']}", False
    return "\n".join(reply["files"]) if reply["files"] else "(no files)", True


def main():
    parser = argparse.ArgumentParser(description="A client for lesson 7's file protocol.")
    parser.add_argument("--dir", default=".", help="where files are read and saved (default: .)")
    parser.add_argument("addr", help="HOST:PORT, e.g. 127.0.0.1:8080")
    parser.add_argument("command", choices=["ls", "get", "put", "post"])
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    host, _, port = args.addr.rpartition(":")
    if args.command != "ls" and not args.names:
        parser.error(f"{args.command} needs at least one name")
    ok = True
    with socket.create_connection((host.strip("[]"), int(port)), timeout=60) as sock:
        for name in args.names or [None]:
            try:
                if args.command == "ls":
                    line, done = ls(sock)
                elif args.command == "get":
                    line, done = get(sock, args.dir, check_name(name))
                else:
                    line, done = put(sock, args.dir, check_name(name))
            except ValueError as e:  # a bad name: refused here, the connection is untouched
                line, done = str(e), False
            print(line, flush=True)
            ok = ok and done
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
