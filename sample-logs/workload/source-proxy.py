#!/usr/bin/env python3
"""A TCP relay whose upstream connections leave from a chosen loopback
address, so that the server logs that address as the client's host.

On Linux a client that connects to 127.0.0.3 still leaves from 127.0.0.1
(the loopback route's source), and libpq cannot bind a source address.
generate-incidents.sh runs the connection storm through this relay, so the
server sees the storm's sessions come from 127.0.0.3.

    source-proxy.py LISTEN_HOST LISTEN_PORT SOURCE_HOST SERVER_HOST SERVER_PORT
"""
import asyncio
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    listen_host, listen_port, source, server_host, server_port = sys.argv[1:6]

    async def relay(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(
                server_host, int(server_port), local_addr=(source, 0))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer),
                             pipe(server_reader, client_writer))

    server = await asyncio.start_server(relay, listen_host, int(listen_port))
    async with server:
        await server.serve_forever()


asyncio.run(main())
