# The original tutorial's client for the length-prefix protocol ("plan two"), its logic kept:
# send the command, int(recv(1024)) for the length, send recv_ready, then recv 1024 bytes at a
# time, the last recv sized to what remains. The tests of lessons 5 and 6 run it with python3.
# Changes, so that a test can check it: the address comes from argv (the original hard-codes
# '127.0.01', 8080), there is no prompt, a timeout bounds every recv, an empty recv ends the
# run (the original would spin forever), and each reply is written raw as "<length>\n<bytes>"
# instead of each piece being printed as GBK.
import socket, sys
host, port = sys.argv[1].rsplit(':', 1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect((host, int(port)))
c.settimeout(10)
out = sys.stdout.buffer
for line in sys.stdin:
    msg = line.strip()
    if not msg:
        continue
    if msg == 'quit':
        break
    c.send(msg.encode('utf-8'))
    length = int(c.recv(1024).decode('utf-8'))
    c.send('recv_ready'.encode('utf-8'))
    recv_size = 0
    total_data = b''
    while recv_size < length:
        if length - recv_size < 1024:
            data = c.recv(length - recv_size)
        else:
            data = c.recv(1024)
        if not data:  # not in the original, which would spin here forever
            sys.exit('the server closed the connection mid-reply')
        total_data += data
        recv_size += len(data)
    out.write(b'%d\n' % length)
    out.write(total_data)
c.close()
