/* casement-display.h
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

#pragma once

#include <gtk/gtk.h>
#include <spice-client.h>

G_BEGIN_DECLS

#define CASEMENT_DISPLAY_ERROR (casement_display_error_quark ())

typedef enum
{
  CASEMENT_DISPLAY_ERROR_NOT_CONNECTED = 1, /* needs a live SPICE session */
  CASEMENT_DISPLAY_ERROR_USB,               /* USB redirection is unavailable or failed */
  CASEMENT_DISPLAY_ERROR_GL,                /* GL drawing failed; the software path takes over */
} CasementDisplayError;

typedef enum
{
  CASEMENT_DISPLAY_STATE_DISCONNECTED = 0, /* no session, or it closed */
  CASEMENT_DISPLAY_STATE_CONNECTING,       /* waiting for the main channel */
  CASEMENT_DISPLAY_STATE_WAITING,          /* connected; the guest shows no frame yet */
  CASEMENT_DISPLAY_STATE_RUNNING,          /* showing the guest's screen */
} CasementDisplayState;

/* Counters for benchmarks and tests; they only grow while the widget lives. */
typedef struct
{
  guint64 frames;              /* renders that put new pixels on screen */
  guint64 invalidated_pixels;  /* area the guest reported changed */
  guint64 uploaded_pixels;     /* area copied to the GPU or into textures */
  gint64  max_upload_delay_us; /* longest wait from an invalidate to its upload */
  guint64 late_frames;         /* uploads of changes that missed a frame-clock tick */
  guint64 copied_pixels;       /* area of those uploads copied in our process (none
                                * where the X server reads the frame in place) */
} CasementDisplayStats;

#define CASEMENT_TYPE_DISPLAY_STATE (casement_display_state_get_type ())
#define CASEMENT_TYPE_DISPLAY       (casement_display_get_type ())

G_DECLARE_FINAL_TYPE (CasementDisplay, casement_display, CASEMENT, DISPLAY, GtkWidget)

GQuark                casement_display_error_quark                 (void) G_GNUC_CONST;
GType                 casement_display_state_get_type              (void) G_GNUC_CONST;

GtkWidget            *casement_display_new                         (void);

/* Where GL is only a software rasterizer (llvmpipe: VMs without a GPU
 * driver, Xvfb), GTK's GL renderer redraws the whole window on the CPU
 * every frame, several times the cost of its cairo renderer for a busy
 * guest screen. Picks the cairo renderer then (GSK_RENDERER=cairo); an
 * explicit GSK_RENDERER wins. Call once after gtk_init() and before any
 * window is shown: GTK reads the choice when it makes its first renderer.
 * Returns TRUE when it chose cairo. */
gboolean              casement_display_choose_renderer             (void);

/* Connects to QEMU's SPICE unix socket, dropping any previous session.
 * Progress shows in the "state" property. */
void                  casement_display_connect                     (CasementDisplay     *self,
                                                                    const char          *unix_path);
void                  casement_display_disconnect                  (CasementDisplay     *self);
/* The folder the guest's spice-webdavd gets over the WebDAV channel (for
 * VMs whose share method is WebDAV); NULL for none. Takes effect at the
 * next connect. */
void                  casement_display_set_shared_folder           (CasementDisplay     *self,
                                                                    const char          *path,
                                                                    gboolean             read_only);
const char           *casement_display_get_unix_path               (CasementDisplay     *self);
CasementDisplayState  casement_display_get_state                   (CasementDisplay     *self);

/* The guest's screen size in guest pixels; FALSE while there is none. */
gboolean              casement_display_get_guest_size              (CasementDisplay     *self,
                                                                    int                 *width,
                                                                    int                 *height);
/* TRUE when frames go through GL, FALSE for the software path. Decided at
 * realize: CASEMENT_DISPLAY_NO_GL=1 forces software. */
gboolean              casement_display_get_uses_gl                 (CasementDisplay     *self);
/* TRUE while frames go straight to the X server (a window of their own,
 * MIT-SHM uploads), bypassing GTK's software renderer. */
gboolean              casement_display_get_presenting              (CasementDisplay     *self);
/* The window shows something over the display (a toast, a revealed header
 * bar): frames go through GTK meanwhile, so that it stays visible. */
void                  casement_display_set_covered                 (CasementDisplay     *self,
                                                                    gboolean             covered);
void                  casement_display_get_stats                   (CasementDisplay     *self,
                                                                    CasementDisplayStats *stats);

/* Fit the guest into the widget (TRUE, the default) or show it 1:1 in
 * device pixels; in 1:1 mode the widget asks for the guest's size, so put
 * it in a GtkScrolledWindow. */
gboolean              casement_display_get_scale                   (CasementDisplay     *self);
void                  casement_display_set_scale                   (CasementDisplay     *self,
                                                                    gboolean             scale);

/* Ask the guest's agent to follow the widget's size (default TRUE). */
gboolean              casement_display_get_resize_guest            (CasementDisplay     *self);
void                  casement_display_set_resize_guest            (CasementDisplay     *self,
                                                                    gboolean             resize_guest);
/* The size last sent to the guest's agent; FALSE when none was sent (no
 * agent: the widget scales instead). */
gboolean              casement_display_get_requested_guest_size    (CasementDisplay     *self,
                                                                    int                 *width,
                                                                    int                 *height);
gboolean              casement_display_get_agent_connected         (CasementDisplay     *self);

/* Accelerator that releases the keyboard grab, GtkShortcutTrigger syntax
 * (default "<Control><Alt>g"). */
const char           *casement_display_get_release_shortcut        (CasementDisplay     *self);
void                  casement_display_set_release_shortcut        (CasementDisplay     *self,
                                                                    const char          *release_shortcut);
gboolean              casement_display_get_keyboard_grabbed        (CasementDisplay     *self);
void                  casement_display_release_keyboard            (CasementDisplay     *self);

/* Text clipboard sharing with the guest's agent (default TRUE). */
gboolean              casement_display_get_clipboard_sharing       (CasementDisplay     *self);
void                  casement_display_set_clipboard_sharing       (CasementDisplay     *self,
                                                                    gboolean             clipboard_sharing);

/* Play the guest's sound here (for VMs using QEMU's spice audiodev).
 * Default FALSE; takes effect at the next connect. */
gboolean              casement_display_get_audio                   (CasementDisplay     *self);
void                  casement_display_set_audio                   (CasementDisplay     *self,
                                                                    gboolean             audio);

/* USB redirection. The array holds SpiceUsbDevice boxed values. */
GPtrArray            *casement_display_list_usb_devices            (CasementDisplay     *self,
                                                                    GError             **error);
gboolean              casement_display_is_usb_device_redirected    (CasementDisplay     *self,
                                                                    SpiceUsbDevice      *device);
void                  casement_display_redirect_usb_device_async   (CasementDisplay     *self,
                                                                    SpiceUsbDevice      *device,
                                                                    gboolean             redirect,
                                                                    GCancellable        *cancellable,
                                                                    GAsyncReadyCallback  callback,
                                                                    gpointer             user_data);
gboolean              casement_display_redirect_usb_device_finish  (CasementDisplay     *self,
                                                                    GAsyncResult        *result,
                                                                    GError             **error);

/* Signals:
 *   "reconnect" ()  the user asked to reconnect (the Reconnect button or the
 *                   display.reconnect action). The default handler reconnects
 *                   to the same socket; stop the emission to do more first
 *                   (e.g. start the VM).
 */

G_END_DECLS
