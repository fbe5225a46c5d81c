#!/usr/bin/env python3
"""bench/delay-relay.py - a TCP relay that adds latency, since this machine
has no netem.  Every chunk read on one side is written to the other side
DELAY_MS later, in order, both ways, so a round trip through the relay
costs 2 x DELAY_MS more.  A new connection first waits one round trip
(2 x DELAY_MS) before anything moves, as the TCP handshake would: the
kernel completes the client's connect at once, so the relay plays it.  EOF is passed on (half-close) after the data
before it.  Binds 127.0.0.1 only.  For benchmarks, not tests.

  bench/delay-relay.py LISTEN_PORT TARGET_HOST:TARGET_PORT DELAY_MS [READY]

LISTEN_PORT 0 takes a free port; READY, when given, gets the port.
"""
import asyncio
import os
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def pump_in():
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + delay, data))
            if not data:
                return

    async def pump_out():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(pump_in(), pump_out())
    except (ConnectionError, OSError):
        writer.close()


async def main():
    port, target, delay_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    host, tport = target.rsplit(":", 1)
    delay = delay_ms / 1000.0

    async def handle(creader, cwriter):
        await asyncio.sleep(2 * delay)      # the SYN, SYN-ACK round trip
        try:
            oreader, owriter = await asyncio.open_connection(host, int(tport))
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(pipe(creader, owriter, delay),
                             pipe(oreader, cwriter, delay))
        cwriter.close()
        owriter.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    if len(sys.argv) > 4:
        with open(sys.argv[4] + ".tmp", "w") as f:
            f.write("%d\n" % bound)
        os.rename(sys.argv[4] + ".tmp", sys.argv[4])
    else:
        print(bound, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
