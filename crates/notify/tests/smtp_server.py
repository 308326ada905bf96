"""A real SMTP server for the notify tests (aiosmtpd), on loopback only.

Usage: smtp_server.py PORT FOLDER [--refuse TEXT]
                      [--starttls CERT KEY | --tls CERT KEY]

Listens on 127.0.0.1:PORT (0 for any free port), prints "listening on N",
and writes each message it accepts to FOLDER as NNNN.eml (as received) and
NNNN.json (decoded by Python's own email parser, so the tests check what a
mail reader would see). Recipients containing TEXT are refused with a 550.
--starttls offers and requires STARTTLS; --tls speaks TLS from the start.
"""

import argparse
import asyncio
import base64
import json
import os
import ssl
from email import message_from_bytes, policy

from aiosmtpd.smtp import SMTP


class Keeper:
    def __init__(self, folder, refuse):
        self.folder = folder
        self.refuse = refuse
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse and self.refuse in address:
            return "550 5.1.1 <%s>: no such mailbox at this school" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(parsed["from"]),
            "to": str(parsed["to"]),
            "reply_to": str(parsed["reply-to"]) if parsed["reply-to"] else None,
            "subject": str(parsed["subject"]),
            "longest_line": max(len(line) for line in raw.split(b"\r\n")),
            "text": None,
            "html": None,
            "attachments": [],
        }
        for part in parsed.walk():
            if part.is_multipart():
                continue
            if part.is_attachment():
                record["attachments"].append(
                    {
                        "filename": part.get_filename(),
                        "content_type": part.get_content_type(),
                        "content": base64.b64encode(part.get_payload(decode=True)).decode(),
                    }
                )
            elif part.get_content_type() == "text/plain" and record["text"] is None:
                record["text"] = part.get_content()
            elif part.get_content_type() == "text/html" and record["html"] is None:
                record["html"] = part.get_content()
        stem = os.path.join(self.folder, "%04d" % self.count)
        with open(stem + ".eml", "wb") as f:
            f.write(raw)
        # Written aside then renamed, so a reader never sees half a file.
        with open(stem + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(stem + ".tmp", stem + ".json")
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("folder")
    parser.add_argument("--refuse")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    keeper = Keeper(args.folder, args.refuse)
    context = None
    pair = args.starttls or args.tls
    if pair:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pair[0], pair[1])

    def session():
        if args.starttls:
            return SMTP(
                keeper,
                enable_SMTPUTF8=True,
                hostname="smtp.test",
                tls_context=context,
                require_starttls=True,
            )
        return SMTP(keeper, enable_SMTPUTF8=True, hostname="smtp.test")

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        session, "127.0.0.1", args.port, ssl=context if args.tls else None
    )
    print("listening on %d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
