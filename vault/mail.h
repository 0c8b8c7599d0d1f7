/*
 * mail — mbox files and MIME messages read as containers (issue 6, FS §4.1, §13.1).
 *
 * An mbox is read as mboxrd: a message starts at a line "From " that opens the file or
 * follows an empty line; the empty line before a separator (and at the end of the file)
 * is the mbox's, not the message's; in a message, a line ">From ", ">>From ", ... loses
 * one ">" (the quoting undone). Each message is a member "message-<k>.eml" (k from 1),
 * streamed: an mbox of any size is read in bounded memory.
 *
 * A message is read whole (at most MAIL_MESSAGE_MAX bytes) and walked as a MIME tree:
 * every leaf part that is an attachment — it has a file name, or disposition
 * "attachment", or a type that is not text/ — and every message/ part becomes a member,
 * its transfer encoding (base64, quoted-printable) decoded. The member's path is the file
 * name (RFC 2231 and 2047 decoded, bytes as given) or "part-<section>" (section "1",
 * "2.1", ... as IMAP numbers parts). Inline text parts are not members: they are in the
 * message's own bytes. Attached messages and archives are opened in turn by the caller.
 *
 * Outcomes: "ok"; "corrupt" for a part cut short (a multipart without its closing
 * delimiter) or base64 with a dangling character; "unsupported" for a transfer encoding
 * custos does not decode (the bytes are kept as they are); the limits as container.h.
 */
#ifndef CUSTOS_MAIL_H
#define CUSTOS_MAIL_H

#include "container.h"

#define MAIL_MESSAGE_MAX ((size_t)512 << 20)
#define MAIL_SNIFF ((size_t)64 << 10) /* the bytes mail_kind looks at */

enum mail_kind { MAIL_NONE, MAIL_MBOX, MAIL_MESSAGE };

/* What the first bytes of a file are (n bytes given; 64 KiB is plenty). */
int mail_kind(const uint8_t *p, size_t n);

/* As container_read over a file or bytes already known to be of that kind. */
int mail_read(int fd, int kind, const container_limits *l, const container_ops *ops,
	      container_result *out);
int mail_read_memory(const uint8_t *p, size_t n, int kind, const container_limits *l,
		     const container_ops *ops, container_result *out);

#endif
