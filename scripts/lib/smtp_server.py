"""A real SMTP server for GitTix's tests (aiosmtpd, from PyPI): the notifications service's SMTP
adapter is tested against it, and the local cluster sends its email to it. On 127.0.0.1 only.

Every message accepted is stored in a Maildir, as received, with its envelope recipients in an
added `X-Envelope-To` header: the tests read the files to see what was sent to whom. Two domains
refuse recipients, so a test can tell how the sender treats each kind of failure:

- `...@bounce.invalid`: 550, a permanent failure (the sender must give up, not retry);
- `...@later.invalid`: 451, a temporary one (the sender must retry later).

Usage: python smtp_server.py --port PORT --maildir DIR
"""

import argparse
import asyncio
import logging
import mailbox
import signal

from aiosmtpd.smtp import SMTP

REFUSALS = {
    'bounce.invalid': '550 5.1.1 Mailbox unavailable (bounce.invalid refuses every recipient)',
    'later.invalid': '451 4.3.0 Try again later (later.invalid defers every recipient)',
}


class MaildirHandler:
    def __init__(self, path):
        # create=True so the first start makes it; a restart (the fault suite kills this server
        # and starts it again with the same arguments) finds it and keeps what it holds.
        self.maildir = mailbox.Maildir(path, create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = REFUSALS.get(address.rpartition('@')[2].lower())
        if refusal:
            logging.info('refused RCPT TO:<%s>: %s', address, refusal)
            return refusal
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        header = 'X-Envelope-To: {}\r\n'.format(', '.join(envelope.rcpt_tos)).encode()
        # Maildir writes the file in tmp/ and then moves it to new/, so a test polling new/
        # never reads half a message.
        key = self.maildir.add(header + envelope.original_content)
        logging.info('stored %s from <%s> to %s', key, envelope.mail_from, envelope.rcpt_tos)
        return '250 OK: queued as ' + key


async def serve(port, maildir):
    handler = MaildirHandler(maildir)
    loop = asyncio.get_running_loop()
    # A fixed hostname: aiosmtpd's default is socket.getfqdn(), which can wait seconds for DNS.
    # SMTPUTF8 on, as a real submission server would offer it to a sender of non-ASCII addresses.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname='gittix-test-smtp', enable_SMTPUTF8=True, loop=loop),
        host='127.0.0.1', port=port)
    logging.info('SMTP on 127.0.0.1:%d, messages in the Maildir %s', port, maildir)
    # SIGTERM stops it as a mail server is stopped for maintenance: no new connection is taken,
    # and a conversation under way finishes first (a message stored but never acknowledged
    # would be sent again, and then be stored twice). SIGKILL is a crash.
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    await stopping.wait()
    server.close()
    logging.info('stopping: no new connections; letting conversations under way finish')
    await asyncio.sleep(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--maildir', required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(message)s')
    asyncio.run(serve(args.port, args.maildir))


if __name__ == '__main__':
    main()
