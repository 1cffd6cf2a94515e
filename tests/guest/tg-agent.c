/* tg-agent.c
 *
 * Copyright 2026 The Casement authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* tg-agent is a small guest-side SPICE agent for the test guest: it speaks
 * the agent protocol of spice-protocol's vd_agent.h on the virtio-serial
 * port named com.redhat.spice.0, so that a SPICE client's monitor
 * configurations and clipboard reach the guest, and the guest's clipboard
 * reaches the client. It reports what it sees on stdout as "TG: agent …"
 * lines (see tests/guest/init):
 *   ready                         the port is open and the capabilities sent
 *   monitors <n> <W>x<H>+<x>+<y>… a monitors config with n entries; each
 *                                 enabled one (width and height not 0)
 *   clipboard <selection> <text>  the client's clipboard text, newlines as
 *                                 spaces
 *   release <selection>           the client dropped its clipboard
 *   grabbed                       "copy" announced the guest's text
 *   sent <n> bytes                the client asked for that text
 * Commands come one per line from the FIFO named on its command line:
 *   copy <text>                   the guest's clipboard now holds <text>
 *
 * Built on the host by build-test-guest with gcc -static against libc and
 * spice-protocol's headers only: the initramfs has no shared libraries.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spice/vd_agent.h>

#define PORT_NAME "com.redhat.spice.0"
#define PORTS_DIR "/sys/class/virtio-ports"

/* Larger messages (a file transfer, say) are skipped, not kept. */
#define MAX_MESSAGE_SIZE (1024 * 1024)

typedef struct
{
  uint8_t  *data;
  size_t    len;
  size_t    allocated;
  uint32_t  chunk_left;   /* bytes of the current chunk still to come */
} Stream;

static int port = -1;
static uint32_t client_caps[VD_AGENT_CAPS_SIZE];
static char *clipboard_text;

static void
report (const char *format,
        ...) __attribute__ ((format (printf, 1, 2)));

static void
report (const char *format,
        ...)
{
  va_list args;

  printf ("TG: agent ");
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  printf ("\n");
  fflush (stdout);
}

static int
write_all (const void *data,
           size_t      len)
{
  const uint8_t *p = data;

  while (len > 0)
    {
      ssize_t n = write (port, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          report ("error: write to the port: %s", strerror (errno));
          return -1;
        }
      p += n;
      len -= n;
    }

  return 0;
}

/* One message, cut into chunks of at most VD_AGENT_MAX_DATA_SIZE: the
 * SPICE server takes no larger chunk, and each message must start a chunk
 * of its own. */
static int
send_message (uint32_t    type,
              const void *prefix,
              size_t      prefix_len,
              const void *data,
              size_t      len)
{
  VDAgentMessage header = {
    .protocol = VD_AGENT_PROTOCOL,
    .type = type,
    .opaque = 0,
    .size = prefix_len + len,
  };
  size_t total = sizeof header + prefix_len + len;
  uint8_t *message = malloc (total);
  size_t done = 0;
  int ret = 0;

  if (message == NULL)
    {
      report ("error: out of memory for a message of %zu bytes", total);
      return -1;
    }
  memcpy (message, &header, sizeof header);
  if (prefix_len > 0)
    memcpy (message + sizeof header, prefix, prefix_len);
  if (len > 0)
    memcpy (message + sizeof header + prefix_len, data, len);

  while (ret == 0 && done < total)
    {
      size_t n = total - done < VD_AGENT_MAX_DATA_SIZE ? total - done : VD_AGENT_MAX_DATA_SIZE;
      VDIChunkHeader chunk = { .port = VDP_CLIENT_PORT, .size = n };

      ret = write_all (&chunk, sizeof chunk);
      if (ret == 0)
        ret = write_all (message + done, n);
      done += n;
    }

  free (message);
  return ret;
}

static int
client_has_cap (unsigned cap)
{
  return VD_AGENT_HAS_CAPABILITY (client_caps, VD_AGENT_CAPS_SIZE, cap);
}

static int
announce_caps (uint32_t request)
{
  uint32_t caps[VD_AGENT_CAPS_SIZE] = { 0 };

  VD_AGENT_SET_CAPABILITY (caps, VD_AGENT_CAP_MONITORS_CONFIG);
  VD_AGENT_SET_CAPABILITY (caps, VD_AGENT_CAP_REPLY);
  VD_AGENT_SET_CAPABILITY (caps, VD_AGENT_CAP_CLIPBOARD_BY_DEMAND);
  VD_AGENT_SET_CAPABILITY (caps, VD_AGENT_CAP_CLIPBOARD_SELECTION);
  VD_AGENT_SET_CAPABILITY (caps, VD_AGENT_CAP_SPARSE_MONITORS_CONFIG);

  return send_message (VD_AGENT_ANNOUNCE_CAPABILITIES, &request, sizeof request,
                       caps, sizeof caps);
}

/* Clipboard messages start with a selection and 3 reserved bytes when
 * both sides have VD_AGENT_CAP_CLIPBOARD_SELECTION (this agent always
 * does); otherwise the selection is CLIPBOARD. */
static int
take_selection (const uint8_t **data,
                uint32_t       *size,
                unsigned       *selection)
{
  *selection = VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD;
  if (!client_has_cap (VD_AGENT_CAP_CLIPBOARD_SELECTION))
    return 0;
  if (*size < 4)
    return -1;
  *selection = (*data)[0];
  *data += 4;
  *size -= 4;
  return 0;
}

static int
send_clipboard_message (uint32_t    type,
                        unsigned    selection,
                        const void *data,
                        size_t      len)
{
  uint8_t prefix[4] = { selection, 0, 0, 0 };

  if (client_has_cap (VD_AGENT_CAP_CLIPBOARD_SELECTION))
    return send_message (type, prefix, sizeof prefix, data, len);

  return send_message (type, NULL, 0, data, len);
}

static void
on_monitors_config (const uint8_t *data,
                    uint32_t       size)
{
  VDAgentMonitorsConfig config;
  VDAgentReply reply = { .type = VD_AGENT_MONITORS_CONFIG, .error = VD_AGENT_SUCCESS };
  char line[1024];
  size_t used;

  if (size < sizeof config)
    {
      report ("error: monitors config of %u bytes", size);
      return;
    }
  memcpy (&config, data, sizeof config);
  if (config.num_of_monitors > (size - sizeof config) / sizeof (VDAgentMonConfig))
    {
      report ("error: monitors config says %u monitors in %u bytes", config.num_of_monitors, size);
      return;
    }

  used = snprintf (line, sizeof line, "monitors %u", config.num_of_monitors);
  for (uint32_t i = 0; i < config.num_of_monitors && used < sizeof line; i++)
    {
      VDAgentMonConfig mon;

      memcpy (&mon, data + sizeof config + i * sizeof mon, sizeof mon);
      if (mon.width == 0 || mon.height == 0)
        continue;
      used += snprintf (line + used, sizeof line - used, " %ux%u+%d+%d",
                        mon.width, mon.height, mon.x, mon.y);
    }
  report ("%s", line);

  send_message (VD_AGENT_REPLY, NULL, 0, &reply, sizeof reply);
}

static void
on_clipboard_grab (const uint8_t *data,
                   uint32_t       size)
{
  unsigned selection;

  if (take_selection (&data, &size, &selection) != 0)
    {
      report ("error: clipboard grab of %u bytes", size);
      return;
    }

  for (uint32_t i = 0; i + 4 <= size; i += 4)
    {
      uint32_t type;

      memcpy (&type, data + i, 4);
      if (type == VD_AGENT_CLIPBOARD_UTF8_TEXT)
        {
          send_clipboard_message (VD_AGENT_CLIPBOARD_REQUEST, selection, &type, sizeof type);
          return;
        }
    }
}

static void
on_clipboard (const uint8_t *data,
              uint32_t       size)
{
  unsigned selection;
  uint32_t type;
  char *text;

  if (take_selection (&data, &size, &selection) != 0 || size < 4)
    {
      report ("error: clipboard data of %u bytes", size);
      return;
    }
  memcpy (&type, data, 4);
  if (type != VD_AGENT_CLIPBOARD_UTF8_TEXT)
    return;

  text = strndup ((const char *) data + 4, size - 4);
  if (text == NULL)
    return;
  /* One report line per clipboard. */
  for (char *p = text; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  report ("clipboard %u %s", selection, text);
  free (text);
}

static void
on_clipboard_request (const uint8_t *data,
                      uint32_t       size)
{
  unsigned selection;
  uint32_t type;
  const char *text = clipboard_text != NULL ? clipboard_text : "";
  uint8_t *payload;
  size_t len = strlen (text);

  if (take_selection (&data, &size, &selection) != 0 || size < 4)
    {
      report ("error: clipboard request of %u bytes", size);
      return;
    }
  memcpy (&type, data, 4);

  /* Only CLIPBOARD holds text here; any other request gets an empty
   * answer, as the client waits for one. */
  if (type != VD_AGENT_CLIPBOARD_UTF8_TEXT ||
      selection != VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD)
    {
      type = VD_AGENT_CLIPBOARD_NONE;
      len = 0;
    }

  payload = malloc (4 + len);
  if (payload == NULL)
    return;
  memcpy (payload, &type, 4);
  memcpy (payload + 4, text, len);
  if (send_clipboard_message (VD_AGENT_CLIPBOARD, selection, payload, 4 + len) == 0 && len > 0)
    report ("sent %zu bytes", len);
  free (payload);
}

static void
on_clipboard_release (const uint8_t *data,
                      uint32_t       size)
{
  unsigned selection;

  if (take_selection (&data, &size, &selection) != 0)
    return;
  report ("release %u", selection);
}

static void
on_announce_caps (const uint8_t *data,
                  uint32_t       size)
{
  uint32_t request;
  size_t n;

  if (size < sizeof request)
    {
      report ("error: capabilities of %u bytes", size);
      return;
    }
  memcpy (&request, data, sizeof request);
  memset (client_caps, 0, sizeof client_caps);
  n = (size - sizeof request) / 4;
  if (n > VD_AGENT_CAPS_SIZE)
    n = VD_AGENT_CAPS_SIZE;
  memcpy (client_caps, data + sizeof request, n * 4);

  if (request)
    announce_caps (0);
}

static void
on_message (const VDAgentMessage *header,
            const uint8_t        *data)
{
  if (header->protocol != VD_AGENT_PROTOCOL)
    {
      report ("error: protocol %u, not %u", header->protocol, VD_AGENT_PROTOCOL);
      return;
    }

  switch (header->type)
    {
    case VD_AGENT_ANNOUNCE_CAPABILITIES:
      on_announce_caps (data, header->size);
      break;
    case VD_AGENT_MONITORS_CONFIG:
      on_monitors_config (data, header->size);
      break;
    case VD_AGENT_CLIPBOARD_GRAB:
      on_clipboard_grab (data, header->size);
      break;
    case VD_AGENT_CLIPBOARD:
      on_clipboard (data, header->size);
      break;
    case VD_AGENT_CLIPBOARD_REQUEST:
      on_clipboard_request (data, header->size);
      break;
    case VD_AGENT_CLIPBOARD_RELEASE:
      on_clipboard_release (data, header->size);
      break;
    default:
      /* Mouse states, display config, client disconnects, file
       * transfers: nothing a test looks at. */
      break;
    }
}

static int
stream_append (Stream        *stream,
               const uint8_t *data,
               size_t         len)
{
  if (stream->len + len > stream->allocated)
    {
      size_t allocated = stream->allocated > 0 ? stream->allocated : 4096;
      uint8_t *grown;

      while (allocated < stream->len + len)
        allocated *= 2;
      if ((grown = realloc (stream->data, allocated)) == NULL)
        return -1;
      stream->data = grown;
      stream->allocated = allocated;
    }
  memcpy (stream->data + stream->len, data, len);
  stream->len += len;
  return 0;
}

static void
stream_consume (Stream *stream,
                size_t  len)
{
  memmove (stream->data, stream->data + len, stream->len - len);
  stream->len -= len;
}

/* Chunks of either port carry a stream of messages: a message may span
 * chunks. Server-port messages (VD_AGENT_CLIENT_DISCONNECTED) go through
 * the same handler, which ignores them. */
static void
stream_dispatch (Stream *messages)
{
  while (messages->len >= sizeof (VDAgentMessage))
    {
      VDAgentMessage header;

      memcpy (&header, messages->data, sizeof header);
      if (header.size > MAX_MESSAGE_SIZE)
        {
          report ("error: message type %u of %u bytes is too large", header.type, header.size);
          messages->len = 0;
          return;
        }
      if (messages->len < sizeof header + header.size)
        return;
      on_message (&header, messages->data + sizeof header);
      stream_consume (messages, sizeof header + header.size);
    }
}

static int
on_port_readable (Stream *raw,
                  Stream  messages[])
{
  uint8_t buffer[4096];
  ssize_t n = read (port, buffer, sizeof buffer);
  static uint32_t chunk_port;

  if (n < 0 && errno == EINTR)
    return 0;
  if (n <= 0)
    {
      report ("error: read from the port: %s", n == 0 ? "end of file" : strerror (errno));
      return -1;
    }
  if (stream_append (raw, buffer, n) != 0)
    return -1;

  for (;;)
    {
      if (raw->chunk_left == 0)
        {
          VDIChunkHeader chunk;

          if (raw->len < sizeof chunk)
            return 0;
          memcpy (&chunk, raw->data, sizeof chunk);
          stream_consume (raw, sizeof chunk);
          if (chunk.port != VDP_CLIENT_PORT && chunk.port != VDP_SERVER_PORT)
            {
              report ("error: chunk for port %u", chunk.port);
              return -1;
            }
          chunk_port = chunk.port;
          raw->chunk_left = chunk.size;
          continue;
        }
      if (raw->len == 0)
        return 0;
      else
        {
          size_t take = raw->len < raw->chunk_left ? raw->len : raw->chunk_left;
          Stream *messages_of_port = &messages[chunk_port - VDP_CLIENT_PORT];

          if (stream_append (messages_of_port, raw->data, take) != 0)
            return -1;
          stream_consume (raw, take);
          raw->chunk_left -= take;
          stream_dispatch (messages_of_port);
        }
    }
}

static void
on_command (char *line)
{
  line[strcspn (line, "\n")] = '\0';

  if (strncmp (line, "copy ", 5) == 0)
    {
      uint32_t type = VD_AGENT_CLIPBOARD_UTF8_TEXT;

      free (clipboard_text);
      clipboard_text = strdup (line + 5);
      if (send_clipboard_message (VD_AGENT_CLIPBOARD_GRAB, VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD,
                                  &type, sizeof type) == 0)
        report ("grabbed");
    }
  else
    report ("error: unknown command '%s'", line);
}

/* /dev/vportNpM of the port named PORT_NAME; devtmpfs makes the node a
 * moment after the port shows in sysfs. */
static int
open_port (void)
{
  for (int attempt = 0; attempt < 50; attempt++)
    {
      DIR *dir = opendir (PORTS_DIR);
      struct dirent *entry;

      while (dir != NULL && (entry = readdir (dir)) != NULL)
        {
          char path[512], name[64] = "";
          FILE *file;

          if (entry->d_name[0] == '.')
            continue;
          snprintf (path, sizeof path, PORTS_DIR "/%s/name", entry->d_name);
          if ((file = fopen (path, "r")) == NULL)
            continue;
          if (fgets (name, sizeof name, file) == NULL)
            name[0] = '\0';
          fclose (file);
          name[strcspn (name, "\n")] = '\0';
          if (strcmp (name, PORT_NAME) != 0)
            continue;

          snprintf (path, sizeof path, "/dev/%s", entry->d_name);
          port = open (path, O_RDWR | O_CLOEXEC);
          if (port >= 0)
            {
              closedir (dir);
              return 0;
            }
        }
      if (dir != NULL)
        closedir (dir);
      usleep (200 * 1000);
    }

  report ("error: no virtio port named " PORT_NAME " could be opened: %s", strerror (errno));
  return -1;
}

int
main (int   argc,
      char *argv[])
{
  Stream raw = { 0 };
  Stream messages[2] = { { 0 } };
  int fd;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s FIFO\n", argv[0]);
      return 2;
    }

  if (mkfifo (argv[1], 0600) != 0 && errno != EEXIST)
    {
      report ("error: mkfifo %s: %s", argv[1], strerror (errno));
      return 1;
    }
  /* Open for writing too, so the FIFO never reads as ended between two
   * writers. */
  fd = open (argv[1], O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      report ("error: open %s: %s", argv[1], strerror (errno));
      return 1;
    }

  if (open_port () != 0 || announce_caps (1) != 0)
    return 1;
  report ("ready");

  for (;;)
    {
      struct pollfd fds[2] = {
        { .fd = port, .events = POLLIN },
        { .fd = fd, .events = POLLIN },
      };

      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          report ("error: poll: %s", strerror (errno));
          return 1;
        }
      /* POLLHUP: the host side of the port is closed; reads wait until
       * it opens again. */
      if ((fds[0].revents & POLLIN) && on_port_readable (&raw, messages) != 0)
        return 1;
      if (fds[0].revents & POLLHUP)
        usleep (100 * 1000);
      if (fds[1].revents & POLLIN)
        {
          char line[4096];

          /* One line per write: the tty1 reader writes whole lines. */
          ssize_t n = read (fd, line, sizeof line - 1);

          if (n > 0)
            {
              line[n] = '\0';
              for (char *start = line, *end; *start != '\0'; start = end)
                {
                  end = start + strcspn (start, "\n");
                  if (*end == '\n')
                    *end++ = '\0';
                  on_command (start);
                }
            }
        }
    }
}
