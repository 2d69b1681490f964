#!/usr/bin/env python3
"""Counts round trips: a TCP forwarder on 127.0.0.1 for the extra, untimed runs of case B4.

rtproxy.py LISTEN_PORT TARGET_PORT COUNT_FILE DELAY_FILE
Runs until killed. Each connection reads DELAY_FILE (milliseconds, 0 if missing) when it
starts and holds every piece the server sends for that long before passing it on, as a
link with that much latency would. A client's wall time through the proxy then grows by the
delay once per wait for the server: scripts/bench.sh runs each tool with delays 0 and D and
takes round(extra time / D) as its waits (the greeting is one of them). After each
connection closes the proxy appends `bursts=N` to COUNT_FILE: how often the client started
sending again after the server had sent something (a LOGOUT sent without waiting for its
answer is a burst but no wait; a client that waits for LOGOUT's answer waits once more
than its bursts show).
"""
import asyncio
import sys
import time

listen, target, count_file, delay_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]


def delay_s():
    try:
        with open(delay_file) as f:
            return int(f.read().strip() or 0) / 1000.0
    except (OSError, ValueError):
        return 0.0


def close_quietly(writer):
    try:
        writer.close()
    except Exception:
        pass


async def handle(cr, cw):
    delay = delay_s()
    sr, sw = await asyncio.open_connection("127.0.0.1", target)
    state = {"last": "s", "bursts": 0}

    async def client_to_server():
        try:
            while True:
                data = await cr.read(65536)
                if not data:
                    break
                if state["last"] == "s":
                    state["bursts"] += 1
                state["last"] = "c"
                sw.write(data)
                await sw.drain()
        except ConnectionError:
            pass
        finally:
            close_quietly(sw)

    # Server data is stamped on arrival and passed on `delay` later, in order.
    queue = asyncio.Queue()

    async def server_reader():
        try:
            while True:
                data = await sr.read(65536)
                await queue.put((time.monotonic() + delay, data))
                if not data:
                    break
        except ConnectionError:
            await queue.put((time.monotonic() + delay, b""))

    async def server_writer():
        try:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    break
                state["last"] = "s"
                cw.write(data)
                await cw.drain()
        except ConnectionError:
            pass
        finally:
            close_quietly(cw)

    await asyncio.gather(client_to_server(), server_reader(), server_writer())
    with open(count_file, "a") as f:
        f.write("bursts=%d\n" % state["bursts"])


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


asyncio.run(main())
