#!/usr/bin/env python3
"""Counts round trips: a TCP forwarder on 127.0.0.1 that counts how often the client
starts sending again after the server has sent something (each such burst is one wait for
the server). Used only in extra, untimed runs of case B4.

rtproxy.py LISTEN_PORT TARGET_PORT COUNT_FILE
Runs until killed; after each connection closes it appends `round_trips=N` to COUNT_FILE.
"""
import asyncio
import sys

listen, target, count_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


async def handle(cr, cw):
    sr, sw = await asyncio.open_connection("127.0.0.1", target)
    state = {"last": "s", "trips": 0}

    async def pump(r, w, side):
        try:
            while True:
                data = await r.read(65536)
                if not data:
                    break
                if side == "c" and state["last"] == "s":
                    state["trips"] += 1
                state["last"] = side
                w.write(data)
                await w.drain()
        except ConnectionError:
            pass
        finally:
            try:
                w.close()
            except Exception:
                pass

    await asyncio.gather(pump(cr, sw, "c"), pump(sr, cw, "s"))
    with open(count_file, "a") as f:
        f.write("round_trips=%d\n" % state["trips"])


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


asyncio.run(main())
