"""CPU time spent per request, by process: where a request's cost goes on a shared machine.

Throughput on two cores is set by the CPU every request costs all processes together (the web
server, Redis, the load generator), not only the web process's. This reads it from the kernel:
/proc for a service's process group, Redis's own INFO for the Redis server, and the bench's
reaped children (wrk) from getrusage.
"""
import os
import resource

from core.processes import running

_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid):
    """User + system CPU seconds of every live process in process group `pgid`."""
    # After the command name: state, ppid, pgrp, ... utime is field 14, stime 15 (1-based).
    ticks = sum(int(fields[11]) + int(fields[12]) for _pid, fields in running() if int(fields[2]) == pgid)
    return ticks / _TICKS


def redis_cpu_seconds(client):
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Measure CPU seconds of the web process group, Redis and the load generator over a run."""

    def __init__(self, web_pgid, redis_client):
        self._pgid = web_pgid
        self._redis = redis_client
        self._start = self._read()

    def _read(self):
        return {
            "web": group_cpu_seconds(self._pgid),
            "redis": redis_cpu_seconds(self._redis),
            "load": children_cpu_seconds(),
        }

    def per_request_us(self, requests):
        """CPU µs per request for each part and in total (the load generator must have exited)."""
        end = self._read()
        result = {f"cpu_{part}_us": round((end[part] - self._start[part]) * 1e6 / max(1, requests), 1)
                  for part in end}
        result["cpu_total_us"] = round(sum(result.values()), 1)
        return result
