"""Turning a freshly forked process into an answer's jail, and proving that the jail holds.

Used inside the strict sandbox by the zygote's children (zygote.py), and, for
the process rules only, by the ``own``-mode worker (runner.py). Linux only;
the seccomp filter comes from ``pyseccomp`` (ctypes over libseccomp).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

__all__ = ["DENIED_SYSCALLS", "SETUP_FAILED", "Limits", "as_uid", "build_filter", "confine", "empty_as",
           "limit_cpu", "probe", "set_dumpable", "wipe"]

SETUP_FAILED = 71  # exit status of a child that could not confine itself
PR_SET_DUMPABLE = 4
CLONE_THREAD = 0x00010000
# Denied with EPERM: networking and sending fds, new programs and processes, other
# processes' memory, namespaces and mounts, kernel interfaces, IPC objects that
# children could share, and changing identity. A clone without CLONE_THREAD (a new
# process) is denied apart, so threads still work; clone3 answers ENOSYS, so glibc
# falls back to clone, whose flags a filter can read. recvmsg stays allowed: a spare child
# is filtered before it receives its channel, and no peer of a child ever sends it fds.
DENIED_SYSCALLS = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendmsg",
    "sendmmsg", "ptrace", "process_vm_readv", "process_vm_writev",
    "pidfd_open", "pidfd_getfd", "execve", "execveat", "fork", "vfork", "mount", "umount2",
    "pivot_root", "chroot", "unshare", "setns", "bpf", "keyctl", "add_key", "request_key",
    "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "userfaultfd",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init", "shmget", "shmat", "msgget",
    "semget", "mq_open", "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
    "setgroups", "setfsuid", "setfsgid", "personality", "swapon", "swapoff", "reboot", "acct",
    "syslog", "quotactl", "settimeofday", "clock_settime", "adjtimex", "iopl", "ioperm",
)
PROCESS_SYSCALLS = ("fork", "vfork", "execve", "execveat")
# The own worker's guard for the app that started it: no reading or writing other processes'
# memory, and signals only to itself (kill(getppid(), SIGKILL) would end the app).
OTHER_PROCESS_SYSCALLS = ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open",
                          "pidfd_getfd", "pidfd_send_signal")
SIGNAL_SYSCALLS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
_MUST_RESOLVE = ("socket", "connect", "execve", "ptrace", "clone", "clone3", "unshare")


@dataclass
class Limits:
    """What one child may use: memory (None: unlimited, for CUDA), threads, file sizes, open files.

    CPU time is set when a job arrives (:func:`limit_cpu`), since it follows the job's budget.
    """

    memory_bytes: int | None
    threads: int  # RLIMIT_NPROC: 0 on CPU (no threads, no processes), a few dozen for CUDA
    file_bytes: int = 16 << 20
    open_files: int = 64


def build_filter(processes_only: bool = False) -> Any:
    """A default-allow seccomp filter denying what an answer never needs (``DENIED_SYSCALLS``).

    ``processes_only`` keeps the rules against new processes and programs only, plus
    signals and memory access to other processes (the ``own`` worker's guard against
    fork bombs, ``os.system`` and killing the app). Raises if libseccomp is missing or
    too old to name a key system call: callers fail closed.
    """
    import pyseccomp as sc

    deny = sc.ERRNO(errno.EPERM)
    filt = sc.SyscallFilter(sc.ALLOW)
    for name in _MUST_RESOLVE:
        if sc.resolve_syscall(sc.Arch.NATIVE, name) < 0:
            raise RuntimeError(f"libseccomp does not know the system call {name!r}")
    for name in (*PROCESS_SYSCALLS, *OTHER_PROCESS_SYSCALLS) if processes_only else DENIED_SYSCALLS:
        if sc.resolve_syscall(sc.Arch.NATIVE, name) >= 0:  # absent on this architecture: nothing to deny
            filt.add_rule(deny, name)
    if processes_only:  # the filter is loaded by the process that builds it: getpid() is its own
        for name in SIGNAL_SYSCALLS:
            filt.add_rule(deny, name, sc.Arg(0, sc.NE, os.getpid()))
    filt.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    if not processes_only:  # a child must not make itself readable through /proc again
        filt.add_rule(deny, "prctl", sc.Arg(0, sc.EQ, PR_SET_DUMPABLE))
    return filt


def set_dumpable(value: bool) -> None:
    """``prctl(PR_SET_DUMPABLE)``: a non-dumpable process's /proc files and memory stay closed."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, int(value), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


@contextlib.contextmanager
def as_uid(uid: int | None) -> Iterator[None]:
    """Act as a child's uid and gid for a moment (the zygote signals its children so).

    For the zygote, which keeps CAP_SETUID/CAP_SETGID to come back to root. ``None``
    (no uid drop: the children share the zygote's uid) changes nothing.
    """
    if uid is None:
        yield
        return
    os.setegid(uid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _unlink_all_but_folders(fd: int) -> list[str]:
    """Unlink every entry of the open folder ``fd`` that is not a folder; return the folders' names."""
    with os.scandir(fd) as it:
        entries = list(it)  # listed before anything is unlinked: no reading a folder while it shrinks
    folders = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            folders.append(entry.name)
        else:  # files, links (never followed), fifos
            os.unlink(entry.name, dir_fd=fd)
    return folders


def wipe(path: str) -> None:
    """Remove everything inside ``path``: what a finished child left in its temp dir.

    An answer may leave a tree deeper than Python's recursion limit and longer
    than PATH_MAX as one path, with folders it locked: so no recursion and no
    long paths. One folder is open at a time, every name is relative to it, and
    an explicit stack holds, per level, the name that was entered and the
    sub-folders still to empty. The caller must be the folders' owner (to unlock
    them) and no process may be using them (the way back up is ``..``).
    """
    fd = os.open(path, _DIR_FLAGS)
    entered: list[str] = []  # the folder opened at each level below ``path``
    pending = [_unlink_all_but_folders(fd)]  # per level: sub-folders not yet emptied
    try:
        while pending:
            if pending[-1]:
                name = pending[-1].pop()
                os.chmod(name, 0o700, dir_fd=fd)  # an answer may have locked it (0, 0o500, ...)
                deeper = os.open(name, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = deeper
                entered.append(name)
                pending.append(_unlink_all_but_folders(fd))
                continue
            pending.pop()
            if entered:  # this folder is empty: go back up and remove it
                parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = parent
                os.rmdir(entered.pop(), dir_fd=fd)
    finally:
        os.close(fd)


def empty_as(uid: int | None, path: str) -> NoReturn:
    """The body of a cleaner process forked by the zygote: become ``uid`` for good, empty
    ``path`` (what that uid's child left), exit 0 once it is empty, 1 if it cannot be.

    As the owner: without CAP_DAC_OVERRIDE root may not enter the folders a child
    made (0700, or locked), but their owner may unlock them.
    """
    try:
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        wipe(path)
    except BaseException:
        os._exit(1)
    os._exit(0)


def confine(uid: int | None, workdir: str, limits: Limits) -> None:
    """Everything of the jail but the seccomp filter and the CPU budget; order matters.

    The uid drop comes first (rlimits such as NPROC bite only for non-root, and
    the set*id calls are what the filter later forbids); then the limits,
    non-dumpable, and the private temp dir (the zygote empties it after each
    child, with :func:`wipe`: a child never walks what an earlier one left).
    """
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    with open("/proc/self/statm") as f:  # the address space is counted from what we inherit
        inherited = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    rlimits = {
        resource.RLIMIT_NPROC: limits.threads,
        resource.RLIMIT_FSIZE: limits.file_bytes,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_CORE: 0,
    }
    if limits.memory_bytes is not None:
        rlimits[resource.RLIMIT_AS] = inherited + limits.memory_bytes
    for which, value in rlimits.items():
        resource.setrlimit(which, (value, value))
    set_dumpable(False)
    os.umask(0o077)
    os.chdir(workdir)
    os.environ.update(HOME=workdir, TMPDIR=workdir)
    tempfile.tempdir = workdir


def limit_cpu(seconds: float) -> None:
    """Allow ``seconds`` more CPU time: SIGXCPU at the soft limit, SIGKILL a second later."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))


def _fork_and_wait() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _create(path: str) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))


def probe(places: list[str], threads_expected: bool) -> dict[str, Any]:
    """What this (confined, filtered) process can do; True for an action means it was allowed.

    The zygote runs this once in a real child before it takes answers, and the
    engine refuses strict mode unless every forbidden action was refused.
    """
    checks: dict[str, Any] = {"uid": os.getuid()}
    with open("/proc/self/status") as f:
        caps = dict(line.split(":", 1) for line in f if line.startswith("Cap"))
    checks["capabilities"] = int(caps["CapEff"], 16) | int(caps["CapPrm"], 16)
    actions = {
        "open a socket": lambda: socket.socket().close(),
        "fork": _fork_and_wait,
        "run a program": lambda: os.execv(sys.executable, [sys.executable, "-c", "pass"]),
        **{f"write to {p}": (lambda p=p: _create(os.path.join(p, "probe"))) for p in places},
    }
    if not threads_expected:
        actions["start a thread"] = lambda: threading.Thread(target=lambda: None).start()
    for name, action in actions.items():
        try:
            action()
            checks[name] = True
        except (OSError, RuntimeError):  # threading reports a refused thread as RuntimeError
            checks[name] = False
    try:
        _create("probe")
        os.unlink("probe")  # the next child of this uid finds its temp dir empty
        checks["own temp dir"] = True
    except OSError:
        checks["own temp dir"] = False
    return checks
