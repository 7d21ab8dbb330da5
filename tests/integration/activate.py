#!/usr/bin/env python3
# activate.py: systemd's socket activation by hand, for fcgi_activation.sh: bind and listen on a
# unix socket, put it on descriptor 3, set LISTEN_PID/LISTEN_FDS, then exec the command.
#
# usage: activate.py [--fds N] [--no-listen] [--pid-offset K] [--keep] SOCKET CMD [ARG...]
#   --fds N        LISTEN_FDS=N (descriptors 3..N+2, each the same socket)   default 1
#   --no-listen    bind but do not listen (what fd 3 must not be)
#   --pid-offset K LISTEN_PID = our pid + K (another process's variables)
#   --keep         fork first and keep the socket here, as systemd does: the command runs
#                  in the child; when it has exited, check the socket still takes a
#                  connection, print "socket still listening" or "socket dead", and exit
#                  with the command's status
import os
import socket
import sys

args = sys.argv[1:]
fds, listen, offset, keep = 1, True, 0, False
while args and args[0].startswith("--"):
    opt = args.pop(0)
    if opt == "--fds":
        fds = int(args.pop(0))
    elif opt == "--no-listen":
        listen = False
    elif opt == "--pid-offset":
        offset = int(args.pop(0))
    elif opt == "--keep":
        keep = True
    else:
        sys.exit("activate.py: unknown option " + opt)
if len(args) < 2:
    sys.exit(__doc__ or "usage: activate.py [options] SOCKET CMD [ARG...]")
path, cmd = args[0], args[1:]

if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind(path)
if listen:
    sock.listen(64)

child = os.fork() if keep else 0
if child == 0:
    for i in range(max(fds, 1)):
        if sock.fileno() != 3 + i:
            os.dup2(sock.fileno(), 3 + i)
        os.set_inheritable(3 + i, True)  # dup2 onto itself would keep Python's CLOEXEC
    if sock.fileno() >= 3 + max(fds, 1):
        sock.close()
    # exec keeps the pid: LISTEN_PID names the process that will read it.
    os.environ["LISTEN_PID"] = str(os.getpid() + offset)
    os.environ["LISTEN_FDS"] = str(fds)
    os.environ["LISTEN_FDNAMES"] = "fcgi"
    os.execvp(cmd[0], cmd)

_, status = os.waitpid(child, 0)
rc = os.waitstatus_to_exitcode(status)
# A connection must still queue on the socket systemd (we) kept, and be accepted here.
probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(2)
try:
    probe.connect(path)
    conn, _ = sock.accept()
    conn.close()
    print("socket still listening", flush=True)
except OSError as e:
    print("socket dead: %s" % e, flush=True)
sys.exit(rc if rc >= 0 else 128 - rc)
