# The original tutorial's client for plan one (方案一): send the command, read the length,
# answer recv_ready, then receive until `length` bytes are in. This is its code as the tutorial
# prints it, with the line breaks and indentation that were lost put back. Where the flattened
# text leaves the nesting open, the reading that prints each piece as it comes is taken:
# `print(data.decode('gbk'))` prints `data`, one piece, so it belongs inside the loop.
#
# Only what it needs to run here is changed, and each change is marked "FIX:". Its bugs are
# kept: chapter 5 ("What goes wrong") lists them.
#
# Run it against `cargo run -p lesson-05 -- server`:
#     python3 lessons/lesson-05-length-prefix/python/original_client.py [HOST:PORT]
from socket import *
import sys  # FIX: not in the original; it reads the address from the command line (below).

c = socket(AF_INET,SOCK_STREAM)
# FIX: the original connects to ('127.0.01',8080) and nowhere else. That address is kept as
# the default (it works: the C library reads 'a.b.c' as a.b.0.c), and HOST:PORT on the command
# line overrides it, so that the tests can use a port the system chose.
if len(sys.argv) > 1:
    host, port = sys.argv[1].rsplit(':', 1)
    address = (host, int(port))
else:
    address = ('127.0.01',8080)
c.connect_ex(address)
while True:
    msg = input('>>> ').strip()
    if not msg: continue
    if msg == 'quit':break
    try:
        c.send(msg.encode('utf-8')) # 如果服务器关闭,c.send()异常
        length=int(c.recv(1024).decode('utf-8'))
        print('信息长度是:',length)
        c.send('recv_ready'.encode('utf-8'))
        # tcp收数据,一次最好不要超过缓存的大小(linux默认8kb),这里我们设置循环收取,每次1kb,最后拼接。
        recv_size=0
        total_data=b''
        while recv_size < length:
            if length - recv_size < 1024: # 判断最后一次收数据时的大小。
                # 如果最后一部分数据小于1kb,而后面又有其它数据,仍按照1kb收取,就可能粘包
                data = c.recv(length - recv_size)
            else:
                data = c.recv(1024) # 最大收取1024,缓存内数据不足时还是会按实际收取的。
            total_data += data
            recv_size += len(data) # 按数据的实际接收长度加。
            # 因为数据长度可能不足1024,或者数据很长,分段来收,最后一次收的可能小于1024
            print(data.decode('gbk'))
    except Exception:
        break
c.close()
