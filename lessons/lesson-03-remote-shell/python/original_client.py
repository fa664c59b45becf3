# The original tutorial's xshell client (模拟xshell远程服务), as it printed it, with its line
# breaks restored. Run it against chapter 3's server:
#
#     cargo run -p lesson-03 -- server              (in one terminal)
#     python3 lessons/lesson-03-remote-shell/python/original_client.py    (in another)
#
# The only changes are marked FIX below. Everything else, the Chinese messages and the
# decode('gbk') included, is the original's: this file shows how the original behaves, not
# how a client should be written (chapter 3 says what goes wrong with it).
import socket
import sys  # FIX: needed for the address below; the original has no `import sys`.

tcpclient = socket.socket(socket.AF_INET,socket.SOCK_STREAM)
# FIX: the original connects to ('localhost',8080) only. Here an argument HOST:PORT may say
# where the server is, so that a test can use any free port; with no argument the address is
# the original's.
if len(sys.argv) > 1:
    host, port = sys.argv[1].rsplit(':', 1)
    tcpclient.connect((host, int(port)))
else:
    tcpclient.connect(('localhost',8080))
while True:
    cmd = input('>>> ').strip()
    if not cmd:
        continue # 因为消息放到缓存中,由OS根据网络协议来发送。输入为空的话,OS将不会发送信息。
    if cmd == 'quit':
        break # 客户端正常退出
    tcpclient.send(cmd.encode('utf-8')) # 这里的send是发到缓存中
    print('已发送请求')
    msg = tcpclient.recv(1024) # 从缓存中收
    print('已进接收返回内容')
    print(msg.decode('gbk'))
tcpclient.close()
