"""The strict sandbox's bubblewrap command line, and the judgement of its self-test.

What the zygote sees: the dynamic loader's cache and shared libraries, Python,
the virtualenv and the ``atlas_quiz`` package, read-only; a small /tmp of its
own; /proc and a minimal /dev; on CUDA the GPU's device nodes. No other part of
/etc, no home, no database, no network. Standard library only.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["UID_BASE", "bwrap_args", "hidden_paths", "judge_checks"]

# Children run as UID_BASE + i: a range no account uses, so RLIMIT_NPROC (which
# counts every process of a uid on the machine) sees only that one child.
UID_BASE = 2_100_000_000
TMP_BYTES = 256 << 20  # the sandbox's /tmp is memory: cap it
_PACKAGE = Path(__file__).resolve().parents[1]  # .../atlas_quiz


def _bound_paths() -> list[str]:
    """Host directories the zygote needs, read-only: Python's prefix (unless it is /usr, whose
    libraries are bound anyway), the virtualenv, this package."""
    paths = [os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), str(_PACKAGE)]
    return [p for p in dict.fromkeys(paths) if p != "/usr" and not p.startswith("/usr/lib")]


def _python_binds(python: str) -> list[str]:
    """The interpreter, when it lies outside the bound directories (a system Python in
    /usr/bin): every symlink on the way to it, then the binary itself."""
    bound = _bound_paths()

    def inside(p: str) -> bool:
        return any(p.startswith(b + "/") for b in bound)

    args, path = [], os.path.abspath(python)
    for _ in range(16):
        if not os.path.islink(path):
            break
        target = os.readlink(path)
        if not inside(path):
            args += ["--symlink", target, path]
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    if not inside(path):
        args += ["--ro-bind", path, path]
    for parent in reversed(_parents(args[2::3])):  # each entry is (option, source, destination)
        args = ["--perms", "0755", "--dir", parent, *args]
    return args


def _parents(paths: list[str]) -> list[str]:
    """Every ancestor directory of ``paths`` (outermost first), excluding ``/`` and the paths."""
    out: dict[str, None] = {}
    for p in paths:
        parts = Path(p).parts[1:-1]
        for i in range(1, len(parts) + 1):
            out.setdefault("/" + "/".join(parts[:i]), None)
    return [p for p in out if p not in paths]


def _system_binds() -> list[str]:
    """The dynamic loader, shared libraries and ``ldconfig`` (ctypes.util.find_library runs it)."""
    binds = [d for d in ("/usr/lib", "/usr/lib64", "/usr/lib32") if os.path.isdir(d)]
    ldconfig = os.path.realpath("/sbin/ldconfig")
    binds += [ldconfig] if os.path.exists(ldconfig) else []
    args = []
    for parent in _parents(["/etc/ld.so.cache", *binds]):  # bubblewrap would make /etc 0700
        args += ["--perms", "0755", "--dir", parent]
    args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for d in binds:
        args += ["--ro-bind", d, d]
    for d in ("/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.islink(d):  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d) and d != "/sbin":
            args += ["--ro-bind", d, d]
    return args


def _cuda_binds() -> list[str]:
    """GPU device nodes, /sys (the driver reads the PCI topology) and the driver's library dirs."""
    args = []
    for node in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind", node, node]
    args += ["--ro-bind", "/sys", "/sys"]
    for d in filter(os.path.isdir, os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep)):
        args += ["--ro-bind", d, d]
    for name in ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"):
        if name in os.environ:
            args += ["--setenv", name, os.environ[name]]
    return args


def bwrap_args(device: str = "cpu", *, rootless: bool = False, python: str | None = None) -> list[str]:
    """The bubblewrap options of the zygote's sandbox (everything before ``--``).

    As root the zygote keeps CAP_SETUID/CAP_SETGID so each child can drop to a uid
    of its own. Without root that is impossible: the sandbox gets a user
    namespace instead, every child shares the one mapped uid, and the runner
    runs one child at a time in a single ``/tmp/work`` that each child empties.
    """
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL"]
    if rootless:
        args += ["--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534",
                 "--perms", "0555", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
                 "--perms", "0700", "--size", str(TMP_BYTES), "--tmpfs", "/tmp/work",
                 "--setenv", "TMPDIR", "/tmp/work"]  # the zygote's own temp files: never answer data
    else:  # /tmp itself is root's; the zygote makes /tmp/u<uid> per child uid
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--perms", "0711", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    args += _system_binds() + ["--proc", "/proc", "--dev", "/dev"]
    bound = _bound_paths()
    for parent in _parents(bound):  # e.g. /root is 0700 on the host: children could not enter it
        args += ["--perms", "0755", "--dir", parent]
    for path in bound:
        args += ["--ro-bind", path, path]
    args += _python_binds(python or sys.executable)
    if device.startswith("cuda"):
        args += _cuda_binds()
    args += ["--setenv", "PYTHONPATH", str(_PACKAGE.parent), "--setenv", "OMP_NUM_THREADS", "1",
             "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "LANG", "C.UTF-8",
             "--chdir", "/tmp", "--remount-ro", "/"]
    if rootless:  # /dev's tmpfs belongs to the mapped uid there: make it read-only too
        args += ["--remount-ro", "/dev", "--remount-ro", "/tmp"]
    return args


def hidden_paths() -> list[str]:
    """Host paths the self-test must not see: account files, the home's and the project's entries."""
    bound = _bound_paths()
    keep = set(bound) | set(_parents(bound))
    out = [p for p in ("/etc/passwd", "/etc/shadow", "/etc/hostname") if os.path.exists(p)]
    for folder in (Path.home(), _PACKAGE.parent):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        out += [str(folder / e) for e in entries if str(folder / e) not in keep][:8]
    return out


def judge_checks(checks: dict[str, Any], rootless: bool) -> str | None:
    """Why the sandbox's self-test fails strict mode's promises, or None when it holds."""
    if checks.get("interfaces") != ["lo"]:
        return f"the sandbox sees network interfaces {checks.get('interfaces')}"
    if checks.get("visible"):
        return f"the sandbox can see {checks['visible'][0]}"
    child = checks.get("child", {})
    if "error" in child:
        return f"a sandbox child could not confine itself: {child['error']}"
    if child.get("uid") == 0 or (not rootless and child.get("uid", 0) < UID_BASE):
        return f"a sandbox child runs as uid {child.get('uid')}"
    if child.get("capabilities"):
        return "a sandbox child kept capabilities"
    allowed = [k for k, v in child.items() if v is True and k != "own temp dir"]
    if allowed:
        return f"a sandbox child was allowed to {allowed[0]}"
    if child.get("own temp dir") is not True:
        return "a sandbox child cannot write its private temp dir"
    return None


