/* test-display.c
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

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <adwaita.h>
#include <glib/gstdio.h>
#ifdef GDK_WINDOWING_X11
# include <gdk/x11/gdkx.h>
# include <X11/Xlib.h>
# include <X11/extensions/Xfixes.h>
#endif

#include "casement-display.h"
#include "casement-qemu-command.h"
#include "casement-test-guest.h"
#include "casement-test-vm.h"
#include "casement-vm.h"
#include "guest/tg-cursor-picture.h"

/* Guest boot under TCG takes seconds; a loaded 2-core host may need more. */
#define BOOT_TIMEOUT_S 120
#define STEP_TIMEOUT_S 30

/* The test guest's framebuffer: efifb, fixed by the firmware. */
#define GUEST_WIDTH  1280
#define GUEST_HEIGHT 800

typedef struct
{
  GtkWindow       *window;
  CasementDisplay *display;
  char            *title;
  char            *xid;
} View;

static gboolean          have_display;
static char             *xdotool;
static CasementVmStore  *store;
static CasementVm       *vm;
static char             *pattern_slug;
static char             *spice_path;
static char             *serial_path;
static char             *frames_dir;
static guint             serial_lines_seen;
static volatile GPid     qemu_pid;
static gboolean          guest_tty_ready;

/* ------------------------------------------------------------------ */
/* Waiting                                                             */
/* ------------------------------------------------------------------ */

static void
count_cb (guint *counter)
{
  (*counter)++;
}

static gboolean
timeout_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

typedef gboolean (*Condition) (gpointer data);

static gboolean
wait_for (Condition  condition,
          gpointer   data,
          guint      timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      spin (20);
    }

  return TRUE;
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
await_result (GAsyncResult **result,
              const char    *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) BOOT_TIMEOUT_S * G_USEC_PER_SEC;

  while (*result == NULL)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s did not complete in %d s", what, BOOT_TIMEOUT_S);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Waits for the next line of the guest's serial log (after those already
 * seen) that matches @regex; returns it, or NULL after @timeout_ms. */
static char *
try_wait_serial (const char *regex,
                 guint       timeout_ms,
                 char      **log)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) re = g_regex_new (regex, 0, 0, &error);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  g_assert_no_error (error);

  for (;;)
    {
      g_autofree char *contents = NULL;
      g_auto(GStrv) lines = NULL;

      if (g_file_get_contents (serial_path, &contents, NULL, NULL))
        {
          lines = g_strsplit (contents, "\n", -1);
          for (guint i = serial_lines_seen; lines[i] != NULL && lines[i + 1] != NULL; i++)
            {
              g_strdelimit (lines[i], "\r", ' ');
              serial_lines_seen = i + 1;
              if (g_regex_match (re, lines[i], 0, NULL))
                return g_strstrip (g_strdup (lines[i]));
            }
        }

      if (g_get_monotonic_time () > deadline)
        {
          if (log != NULL)
            *log = g_steal_pointer (&contents);
          return NULL;
        }
      spin (50);
    }
}

static char *
wait_serial (const char *regex)
{
  g_autofree char *log = NULL;
  char *line = try_wait_serial (regex, STEP_TIMEOUT_S * 1000, &log);

  if (line == NULL)
    g_error ("The guest did not print a line matching “%s” in %d s; its log:\n%s",
             regex, STEP_TIMEOUT_S, log != NULL ? log : "(none)");

  return line;
}

/* Forgets the serial log so far: later waits only see new lines. */
static void
skip_serial (void)
{
  g_autofree char *contents = NULL;

  if (g_file_get_contents (serial_path, &contents, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
      serial_lines_seen = MAX (g_strv_length (lines), 1) - 1;
    }
}

/* ------------------------------------------------------------------ */
/* The VM                                                              */
/* ------------------------------------------------------------------ */

/* A failed assertion aborts: the VM outlives us by design, so kill it. */
static void
on_fatal_signal (int sig)
{
  if (qemu_pid > 0)
    kill (qemu_pid, SIGKILL);
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
vm_start (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  casement_vm_start_async (vm, NULL, NULL, store_result_cb, &result);
  await_result (&result, "VM start");
  casement_vm_start_finish (vm, result, &error);
  g_assert_no_error (error);
  qemu_pid = casement_vm_get_pid (vm);
  guest_tty_ready = FALSE;
}

static void
vm_reset (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  casement_vm_reset_async (vm, NULL, store_result_cb, &result);
  await_result (&result, "reset");
  casement_vm_reset_finish (vm, result, &error);
  g_assert_no_error (error);
  guest_tty_ready = FALSE;
}

static void
vm_force_off (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  casement_vm_force_off_async (vm, NULL, store_result_cb, &result);
  await_result (&result, "force off");
  casement_vm_force_off_finish (vm, result, &error);
  g_assert_no_error (error);
  qemu_pid = 0;
}

static char *
create_vm (CasementVmConfig *config)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *slug;

  casement_vm_store_create_async (store, config, NULL, store_result_cb, &result);
  await_result (&result, "VM creation");
  slug = casement_vm_store_create_finish (store, result, &error);
  g_assert_no_error (error);

  return slug;
}

/* Starts the VM @slug and waits until the guest is set up; it becomes the
 * VM the helpers here work on. */
static void
boot_vm (const char *slug)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *run_dir = NULL;

  g_assert_null (vm);

  vm = casement_vm_new (store, slug);
  vm_start ();
  /* QEMU starts the serial log afresh. */
  serial_lines_seen = 0;

  vm_dir = casement_vm_dup_vm_dir (vm);
  run_dir = casement_vm_dup_runtime_dir (vm, &error);
  g_assert_no_error (error);
  serial_path = g_build_filename (vm_dir, CASEMENT_VM_SERIAL_LOG, NULL);
  spice_path = g_build_filename (run_dir, CASEMENT_RUNTIME_SPICE_SOCKET, NULL);

  g_free (wait_serial ("^TG: input event[0-9]+ QEMU Virtio Tablet"));
  g_free (wait_serial ("^TG: ready"));
}

/* Boots the test guest in pattern mode; the tests share it. */
static void
ensure_vm (void)
{
  if (vm != NULL)
    return;

  if (pattern_slug == NULL)
    {
      g_autoptr(CasementVmConfig) config = NULL;

      config = casement_test_guest_config_new ("Display Test", "pattern", NULL);
      /* An HDA device on QEMU's spice audiodev (there is no sound server
       * here), so the SPICE server offers a playback channel. */
      casement_vm_config_set_audio (config, TRUE);
      pattern_slug = create_vm (config);
    }
  boot_vm (pattern_slug);
  g_free (wait_serial ("^TG: pattern drawn 1280x800"));
}

/* Stops the current VM: the next ensure_vm() boots the pattern guest
 * again. */
static void
drop_vm (void)
{
  if (vm == NULL)
    return;

  if (qemu_pid > 0)
    vm_force_off ();
  g_clear_object (&vm);
  g_clear_pointer (&spice_path, g_free);
  g_clear_pointer (&serial_path, g_free);
}

static void
screendump (const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  casement_vm_screendump_async (vm, path, NULL, store_result_cb, &result);
  await_result (&result, "screendump");
  casement_vm_screendump_finish (vm, result, &error);
  g_assert_no_error (error);
}

static JsonNode *
qmp_with_arguments (const char *command,
                    const char *arguments_json)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) arguments = NULL;
  JsonNode *reply;

  if (arguments_json != NULL)
    {
      arguments = json_from_string (arguments_json, &error);
      g_assert_no_error (error);
    }

  casement_qmp_client_execute_async (casement_vm_get_qmp_client (vm), command, arguments, NULL,
                                     store_result_cb, &result);
  await_result (&result, command);
  reply = casement_qmp_client_execute_finish (casement_vm_get_qmp_client (vm), result, &error);
  g_assert_no_error (error);

  return reply;
}

static JsonNode *
qmp (const char *command)
{
  return qmp_with_arguments (command, NULL);
}

/* ------------------------------------------------------------------ */
/* The widget on screen                                                */
/* ------------------------------------------------------------------ */

static gboolean
display_is_running (gpointer data)
{
  return casement_display_get_state (data) == CASEMENT_DISPLAY_STATE_RUNNING;
}

static gboolean
display_is_disconnected (gpointer data)
{
  return casement_display_get_state (data) == CASEMENT_DISPLAY_STATE_DISCONNECTED;
}

static gboolean
window_is_active (gpointer data)
{
  return gtk_window_is_active (data);
}

/* The guest's frame stops changing once the pattern is drawn. */
static void
wait_frame_settled (CasementDisplay *display)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) STEP_TIMEOUT_S * G_USEC_PER_SEC;
  CasementDisplayStats before, after;

  casement_display_get_stats (display, &after);
  do
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("The display did not settle on a frame in %d s (%" G_GUINT64_FORMAT " frames)",
                 STEP_TIMEOUT_S, after.frames);
      before = after;
      spin (700);
      casement_display_get_stats (display, &after);
    }
  while (after.invalidated_pixels != before.invalidated_pixels ||
         after.frames != before.frames ||
         after.frames == 0);
}

static void
xdo (const char *first_arg,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  g_ptr_array_add (argv, xdotool);
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);

  /* The events it makes must reach GTK while it runs. */
  g_subprocess_wait_check_async (process, NULL, store_result_cb, &result);
  await_result (&result, "xdotool");
  g_subprocess_wait_check_finish (process, result, &error);
  g_assert_no_error (error);
}

/* The X window id of a toplevel, found by its unique title. */
static char *
find_xid (const char *title)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                              xdotool, "search", "--sync", "--name", title, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_strstrip (out);
  g_assert_cmpstr (out, !=, "");

  return g_steal_pointer (&out);
}

static View *
view_new (int width,
          int height)
{
  static guint counter;
  View *view = g_new0 (View, 1);

  view->title = g_strdup_printf ("casement-test-display-%d-%u", (int) getpid (), ++counter);
  view->window = GTK_WINDOW (gtk_window_new ());
  /* No decorations: the display sits at the window's origin, so window
   * coordinates are widget coordinates. */
  gtk_window_set_decorated (view->window, FALSE);
  gtk_window_set_title (view->window, view->title);
  gtk_window_set_default_size (view->window, width, height);
  view->display = CASEMENT_DISPLAY (casement_display_new ());
  gtk_window_set_child (view->window, GTK_WIDGET (view->display));
  gtk_window_present (view->window);

  return view;
}

static void
view_free (View *view)
{
  g_object_add_weak_pointer (G_OBJECT (view->display), (gpointer *) &view->display);
  gtk_window_destroy (view->window);
  /* The SPICE server takes one client at a time: the next view must not
   * race this one's goodbye. */
  spin (300);
  g_assert_null (view->display);
  g_free (view->title);
  g_free (view->xid);
  g_free (view);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (View, view_free)

/* Shows a connected display and waits until it shows the guest. */
static View *
view_connect (int width,
              int height)
{
  View *view = view_new (width, height);

  casement_display_connect (view->display, spice_path);
  if (!wait_for (display_is_running, view->display, STEP_TIMEOUT_S))
    g_error ("The display did not show the guest within %d s (state %d)",
             STEP_TIMEOUT_S, casement_display_get_state (view->display));
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (view->display)), ==, width);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (view->display)), ==, height);

  return view;
}

/* The first widget of @type inside @widget (depth first). */
static GtkWidget *
find_child (GtkWidget *widget,
            GType      type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        return child;
      if ((found = find_child (child, type)))
        return found;
    }

  return NULL;
}

/* Gives the view the X keyboard focus and waits until GTK knows. */
static void
view_focus (View *view)
{
  if (view->xid == NULL)
    view->xid = find_xid (view->title);
  gtk_window_present (view->window);
  xdo ("windowfocus", "--sync", view->xid, NULL);
  g_assert_true (wait_for (window_is_active, view->window, STEP_TIMEOUT_S));
  gtk_widget_grab_focus (GTK_WIDGET (view->display));
  g_assert_true (gtk_widget_has_focus (GTK_WIDGET (view->display)));
}

/* What the X server shows where the widget is: on the X11 path the frame
 * is in a window of its own that GTK's renderer never sees. */
static GdkTexture *
view_capture_screen (View *view)
{
#ifdef GDK_WINDOWING_X11
  GtkWidget *widget = GTK_WIDGET (view->display);
  GtkNative *native = gtk_widget_get_native (widget);
  GdkSurface *surface = gtk_native_get_surface (native);
  int scale = gtk_widget_get_scale_factor (widget);
  int width = gtk_widget_get_width (widget) * scale;
  int height = gtk_widget_get_height (widget) * scale;
  g_autoptr(GBytes) bytes = NULL;
  graphene_point_t origin;
  double surface_x, surface_y;
  XImage *image;
  guint8 *pixels;
  gsize stride;

  g_assert_true (gtk_widget_compute_point (widget, GTK_WIDGET (native), &GRAPHENE_POINT_INIT (0, 0), &origin));
  gtk_native_get_surface_transform (native, &surface_x, &surface_y);
  image = XGetImage (gdk_x11_display_get_xdisplay (gdk_surface_get_display (surface)),
                     gdk_x11_surface_get_xid (surface),
                     (int) ((origin.x + surface_x) * scale), (int) ((origin.y + surface_y) * scale),
                     width, height, AllPlanes, ZPixmap);
  g_assert_nonnull (image);
  g_assert_cmpint (image->bits_per_pixel, ==, 32);

  /* xRGB words: the fourth byte means nothing, make it opaque. */
  stride = image->bytes_per_line;
  pixels = g_memdup2 (image->data, stride * height);
  XDestroyImage (image);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      pixels[y * stride + x * 4 + 3] = 0xff;
  bytes = g_bytes_new_take (pixels, stride * height);

  return gdk_memory_texture_new (width, height, GDK_MEMORY_B8G8R8A8, bytes, stride);
#else
  g_assert_not_reached ();
#endif
}

/* What the widget draws, rendered by its window's own renderer; or, when
 * the frame bypasses GTK, what is on screen. */
static GdkTexture *
view_capture (View *view)
{
  GtkWidget *widget = GTK_WIDGET (view->display);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GskRenderNode) node = NULL;
  GtkSnapshot *snapshot;

  if (casement_display_get_presenting (view->display))
    return view_capture_screen (view);

  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);

  return gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (view->window)),
                                      node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

/* ------------------------------------------------------------------ */
/* Comparing frames                                                    */
/* ------------------------------------------------------------------ */

/* The screendump scaled and letterboxed the way the widget should show
 * it in a @width × @height area, or centred 1:1 when not @fit. */
static GdkPixbuf *
make_reference (const char *screendump_path,
                int         width,
                int         height,
                gboolean    fit)
{
  g_autoptr(GdkPixbuf) dump = NULL;
  g_autoptr(GdkPixbuf) scaled = NULL;
  g_autoptr(GError) error = NULL;
  GdkPixbuf *canvas;
  double k;
  int w, h;

  dump = gdk_pixbuf_new_from_file (screendump_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (dump), ==, GUEST_WIDTH);
  g_assert_cmpint (gdk_pixbuf_get_height (dump), ==, GUEST_HEIGHT);

  k = fit ? MIN ((double) width / GUEST_WIDTH, (double) height / GUEST_HEIGHT) : 1;
  w = (int) (GUEST_WIDTH * k + .5);
  h = (int) (GUEST_HEIGHT * k + .5);
  scaled = gdk_pixbuf_scale_simple (dump, w, h, GDK_INTERP_BILINEAR);

  canvas = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  gdk_pixbuf_fill (canvas, 0x000000ff);
  gdk_pixbuf_copy_area (scaled, 0, 0, w, h, canvas, (width - w) / 2, (height - h) / 2);

  return canvas;
}

/* Counts the pixels that differ by more than @tolerance in a channel,
 * after saving both pictures for a look. */
static guint
compare_frames (GdkTexture *frame,
                GdkPixbuf  *reference,
                int         tolerance,
                const char *name)
{
  int width = gdk_texture_get_width (frame);
  int height = gdk_texture_get_height (frame);
  g_autofree guchar *pixels = g_malloc ((gsize) width * height * 4);
  g_autofree char *frame_path = NULL;
  g_autofree char *reference_path = NULL;
  g_autofree char *frame_name = g_strdup_printf ("%s-widget.png", name);
  g_autofree char *reference_name = g_strdup_printf ("%s-reference.png", name);
  g_autoptr(GError) error = NULL;
  const guchar *ref = gdk_pixbuf_read_pixels (reference);
  int ref_stride = gdk_pixbuf_get_rowstride (reference);
  int ref_channels = gdk_pixbuf_get_n_channels (reference);
  guint bad = 0;

  g_assert_cmpint (gdk_pixbuf_get_width (reference), ==, width);
  g_assert_cmpint (gdk_pixbuf_get_height (reference), ==, height);

  frame_path = g_build_filename (frames_dir, frame_name, NULL);
  reference_path = g_build_filename (frames_dir, reference_name, NULL);
  g_assert_true (gdk_texture_save_to_png (frame, frame_path));
  gdk_pixbuf_save (reference, reference_path, "png", &error, NULL);
  g_assert_no_error (error);
  g_test_message ("frame: %s\nreference: %s", frame_path, reference_path);

  /* Bytes B G R A, premultiplied; everything here is opaque. */
  gdk_texture_download (frame, pixels, (gsize) width * 4);

  for (int y = 0; y < height; y++)
    {
      for (int x = 0; x < width; x++)
        {
          const guchar *p = pixels + ((gsize) y * width + x) * 4;
          const guchar *r = ref + (gsize) y * ref_stride + (gsize) x * ref_channels;

          if (ABS (p[2] - r[0]) > tolerance ||
              ABS (p[1] - r[1]) > tolerance ||
              ABS (p[0] - r[2]) > tolerance)
            bad++;
        }
    }

  g_test_message ("%s: %u of %d pixels differ by more than %d", name, bad, width * height, tolerance);

  return bad;
}

/* Compares the widget's picture with the screendump at @dump_path, or
 * with one taken now when that is NULL. */
static void
check_frame (View       *view,
             const char *name,
             const char *dump_path,
             int         tolerance,
             double      max_bad_fraction)
{
  gboolean fit = casement_display_get_scale (view->display);
  int width, height;
  g_autofree char *dump_name = g_strdup_printf ("%s-screendump.png", name);
  g_autofree char *own_dump_path = NULL;
  g_autoptr(GdkTexture) frame = NULL;
  g_autoptr(GdkPixbuf) reference = NULL;
  guint bad;

  wait_frame_settled (view->display);
  if (dump_path == NULL)
    {
      dump_path = own_dump_path = g_build_filename (frames_dir, dump_name, NULL);
      screendump (dump_path);
    }
  /* In logical pixels from GTK's renderer, in device pixels from the
   * screen. */
  frame = view_capture (view);
  width = gdk_texture_get_width (frame);
  height = gdk_texture_get_height (frame);
  reference = make_reference (dump_path, width, height, fit);
  bad = compare_frames (frame, reference, tolerance, name);

  g_assert_cmpfloat ((double) bad / (width * height), <=, max_bad_fraction);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static gboolean
skip_without_display (void)
{
  if (!have_display)
    {
      g_test_skip ("No display to show the widget on: run under xvfb-run");
      return TRUE;
    }

  return FALSE;
}

static gboolean
skip_without_xdotool (void)
{
  if (skip_without_display ())
    return TRUE;

  if (xdotool == NULL)
    {
      g_test_skip ("xdotool is not installed (apt install xdotool): it makes the real X input events");
      return TRUE;
    }

  return FALSE;
}

static void
test_display_defaults (void)
{
  g_autoptr(GtkWidget) widget = NULL;
  CasementDisplay *display;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  guint notified = 0;
  int width = -1, height = -1;

  if (skip_without_display ())
    return;

  widget = g_object_ref_sink (casement_display_new ());
  display = CASEMENT_DISPLAY (widget);

  g_assert_cmpint (casement_display_get_state (display), ==, CASEMENT_DISPLAY_STATE_DISCONNECTED);
  g_assert_null (casement_display_get_unix_path (display));
  g_assert_true (casement_display_get_scale (display));
  g_assert_true (casement_display_get_resize_guest (display));
  g_assert_true (casement_display_get_clipboard_sharing (display));
  g_assert_false (casement_display_get_audio (display));
  g_assert_false (casement_display_get_keyboard_grabbed (display));
  g_assert_false (casement_display_get_agent_connected (display));
  g_assert_cmpstr (casement_display_get_release_shortcut (display), ==, "<Control><Alt>g");
  g_assert_false (casement_display_get_guest_size (display, &width, &height));
  g_assert_cmpint (width, ==, 0);
  g_assert_false (casement_display_get_requested_guest_size (display, NULL, NULL));

  /* Setters notify once, and only on a change. */
  g_signal_connect_swapped (display, "notify::clipboard-sharing", G_CALLBACK (count_cb), &notified);
  casement_display_set_clipboard_sharing (display, TRUE);
  g_assert_cmpuint (notified, ==, 0);
  casement_display_set_clipboard_sharing (display, FALSE);
  casement_display_set_clipboard_sharing (display, FALSE);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_false (casement_display_get_clipboard_sharing (display));

  casement_display_set_release_shortcut (display, "<Control><Shift>F12");
  g_assert_cmpstr (casement_display_get_release_shortcut (display), ==, "<Control><Shift>F12");
  g_test_expect_message ("casement-display", G_LOG_LEVEL_WARNING, "*not a valid shortcut*");
  casement_display_set_release_shortcut (display, "<Control>no-such-key");
  g_test_assert_expected_messages ();
  g_assert_cmpstr (casement_display_get_release_shortcut (display), ==, "<Control><Shift>F12");

  /* USB needs a session. */
  devices = casement_display_list_usb_devices (display, &error);
  g_assert_error (error, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_NOT_CONNECTED);
  g_assert_null (devices);
}

/* Nothing listens on the socket: the widget says so and offers to retry. */
static void
test_display_connect_refused (void)
{
  g_autoptr(View) view = NULL;
  g_autofree char *path = NULL;
  GtkWidget *status;

  if (skip_without_display ())
    return;

  path = g_build_filename (g_get_user_runtime_dir (), "no-such-vm", "spice.sock", NULL);
  view = view_new (640, 400);
  casement_display_connect (view->display, path);
  g_assert_cmpstr (casement_display_get_unix_path (view->display), ==, path);
  g_assert_true (wait_for (display_is_disconnected, view->display, STEP_TIMEOUT_S));

  status = find_child (GTK_WIDGET (view->display), ADW_TYPE_STATUS_PAGE);
  g_assert_nonnull (status);
  g_assert_true (gtk_widget_get_visible (status));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view->display), "display.reconnect", NULL));
  g_assert_true (wait_for (display_is_disconnected, view->display, STEP_TIMEOUT_S));
}

typedef struct
{
  const char *name;
  gboolean    software;      /* CASEMENT_DISPLAY_NO_GL=1 */
  const char *gsk_renderer;  /* the window's renderer, NULL for GTK's choice */
} FramePath;

static const FramePath frame_paths[] = {
  { "gl", FALSE, NULL },
  { "software", TRUE, NULL },
  { "cairo", FALSE, "cairo" },
};

static void
test_display_frame (gconstpointer data)
{
  const FramePath *path = data;
  g_autofree char *name_1to1 = g_strdup_printf ("%s-1280x800", path->name);
  g_autofree char *name_scaled = g_strdup_printf ("%s-640x480", path->name);
  g_autofree char *name_unscaled = g_strdup_printf ("%s-1440x900-unscaled", path->name);
  g_autofree char *own_dump_path = NULL;
  const char *dump_path = NULL;
  const char *renderer_name;

  if (skip_without_display ())
    return;

  /* GTK reads GSK_RENDERER once per process: that case runs in a child,
   * against the parent's VM and a screendump the parent takes. */
  if (path->gsk_renderer != NULL && !g_test_subprocess ())
    {
      ensure_vm ();
      own_dump_path = g_build_filename (frames_dir, "renderer-screendump.png", NULL);
      screendump (own_dump_path);
      g_setenv ("GSK_RENDERER", path->gsk_renderer, TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SPICE", spice_path, TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SCREENDUMP", own_dump_path, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_unsetenv ("GSK_RENDERER");
      g_test_trap_assert_passed ();
      return;
    }

  if (g_test_subprocess ())
    {
      spice_path = g_strdup (g_getenv ("CASEMENT_TEST_DISPLAY_SPICE"));
      dump_path = g_getenv ("CASEMENT_TEST_DISPLAY_SCREENDUMP");
      g_assert_nonnull (spice_path);
      g_assert_nonnull (dump_path);
    }
  else
    ensure_vm ();

  if (path->software)
    g_setenv ("CASEMENT_DISPLAY_NO_GL", "1", TRUE);

  {
    g_autoptr(View) view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);
    CasementDisplayStats stats;
    int width, height;

    g_unsetenv ("CASEMENT_DISPLAY_NO_GL");

    renderer_name = G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (view->window)));
    g_test_message ("renderer %s, display path %s", renderer_name,
                    casement_display_get_uses_gl (view->display) ? "GL" : "software");

    if (path->software || path->gsk_renderer != NULL)
      g_assert_false (casement_display_get_uses_gl (view->display));
    else if (g_str_equal (renderer_name, "GskCairoRenderer"))
      {
        g_test_skip ("GTK has no GL on this display");
        return;
      }
    else
      g_assert_true (casement_display_get_uses_gl (view->display));

    g_assert_true (casement_display_get_guest_size (view->display, &width, &height));
    g_assert_cmpint (width, ==, GUEST_WIDTH);
    g_assert_cmpint (height, ==, GUEST_HEIGHT);

    /* 1:1 every pixel must match. */
    check_frame (view, name_1to1, dump_path, 2, 0.0);

    casement_display_get_stats (view->display, &stats);
    g_test_message ("%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT " px invalidated, %"
                    G_GUINT64_FORMAT " px uploaded, longest wait %" G_GINT64_FORMAT " µs",
                    stats.frames, stats.invalidated_pixels, stats.uploaded_pixels,
                    stats.max_upload_delay_us);
    g_assert_cmpuint (stats.uploaded_pixels, >=, (guint64) GUEST_WIDTH * GUEST_HEIGHT);
  }

  if (path->software)
    g_setenv ("CASEMENT_DISPLAY_NO_GL", "1", TRUE);

  {
    /* Letterboxed: 640×400 with 40-pixel bars above and below. The
     * scalers differ a little at the bars' edges. */
    g_autoptr(View) view = view_connect (640, 480);

    g_unsetenv ("CASEMENT_DISPLAY_NO_GL");

    check_frame (view, name_scaled, dump_path, 24, 0.01);

    /* The guest has no agent: the widget scales, it asks for nothing. */
    spin (800);
    g_assert_false (casement_display_get_agent_connected (view->display));
    g_assert_false (casement_display_get_requested_guest_size (view->display, NULL, NULL));
  }

  if (path->software)
    g_setenv ("CASEMENT_DISPLAY_NO_GL", "1", TRUE);

  {
    /* Not scaled: 1:1 in the middle of a larger widget. */
    g_autoptr(View) view = view_new (1440, 900);

    g_unsetenv ("CASEMENT_DISPLAY_NO_GL");
    casement_display_set_scale (view->display, FALSE);
    casement_display_connect (view->display, spice_path);
    g_assert_true (wait_for (display_is_running, view->display, STEP_TIMEOUT_S));

    check_frame (view, name_unscaled, dump_path, 2, 0.0);
  }
}

static void
type_line (const char *text)
{
  xdo ("type", "--delay", "40", text, NULL);
  xdo ("key", "Return", NULL);
}

/* The guest's tty1 reader starts in the background at boot and may miss
 * keys typed before it is up: press Enter until it answers once. */
static void
wait_guest_tty (View *view)
{
  if (guest_tty_ready)
    return;

  skip_serial ();
  for (guint i = 0; i < 10 && !guest_tty_ready; i++)
    {
      g_autofree char *line = NULL;

      xdo ("key", "Return", NULL);
      line = try_wait_serial ("^GOT:", 2000, NULL);
      guest_tty_ready = line != NULL;
    }

  g_assert_true (guest_tty_ready);
  spin (500);
  skip_serial ();
}

static void
test_display_keyboard (void)
{
  g_autoptr(View) view = NULL;
  g_autofree char *line = NULL;

  if (skip_without_xdotool ())
    return;

  ensure_vm ();
  view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);
  view_focus (view);
  wait_guest_tty (view);

  /* Shifted letters and symbols, digits, Enter. */
  type_line ("Hello, World! 42 a_b=c");
  line = wait_serial ("^GOT:");
  g_assert_cmpstr (line, ==, "GOT:Hello, World! 42 a_b=c");
}

/* A key held when the focus leaves is released in the guest, otherwise
 * the guest would go on seeing it down. */
static void
test_display_focus_loss (void)
{
  g_autoptr(View) view = NULL;
  g_autoptr(View) other = NULL;
  g_autofree char *line = NULL;

  if (skip_without_xdotool ())
    return;

  ensure_vm ();
  view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);
  view_focus (view);
  wait_guest_tty (view);

  xdo ("keydown", "shift", NULL);
  spin (300);

  other = view_new (200, 100);
  view_focus (other);
  g_assert_false (gtk_widget_has_focus (GTK_WIDGET (view->display)) &&
                  gtk_window_is_active (view->window));
  xdo ("keyup", "shift", NULL);

  view_focus (view);
  type_line ("abc");
  line = wait_serial ("^GOT:");
  /* Still held, Shift would have made it "ABC". */
  g_assert_cmpstr (line, ==, "GOT:abc");
}

static void
test_display_grab (void)
{
  g_autoptr(View) view = NULL;
  g_autofree char *line = NULL;
  GtkWidget *hint;

  if (skip_without_xdotool ())
    return;

  ensure_vm ();
  view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);
  view_focus (view);
  wait_guest_tty (view);

  /* A click inside grabs the keyboard and says how to get it back. */
  xdo ("mousemove", "--window", view->xid, "600", "300", NULL);
  xdo ("click", "1", NULL);
  spin (300);
  g_assert_true (casement_display_get_keyboard_grabbed (view->display));
  hint = find_child (GTK_WIDGET (view->display), GTK_TYPE_REVEALER);
  g_assert_nonnull (hint);
  g_assert_true (gtk_revealer_get_reveal_child (GTK_REVEALER (hint)));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (gtk_revealer_get_child (GTK_REVEALER (hint)))),
                   ==, "Press Ctrl+Alt+G to release the keyboard");

  /* The release shortcut does not reach the guest; Ctrl and Alt, which
   * did, are released there. */
  xdo ("key", "ctrl+alt+g", NULL);
  spin (300);
  g_assert_false (casement_display_get_keyboard_grabbed (view->display));
  type_line ("xy");
  line = wait_serial ("^GOT:");
  g_assert_cmpstr (line, ==, "GOT:xy");
}

/* Asks for the next tablet event line of type @type and code @code. */
static int
wait_event (int type,
            int code)
{
  g_autofree char *regex = g_strdup_printf ("^EV event[0-9]+ type=%d code=%d val=", type, code);
  g_autofree char *line = wait_serial (regex);

  return atoi (strstr (line, "val=") + 4);
}

typedef struct
{
  const char *name;
  gboolean    software;
  int         width;    /* window size; the guest's 1280×800 scales into it */
  int         height;
} PointerCase;

static const PointerCase pointer_cases[] = {
  { "1to1-gl", FALSE, GUEST_WIDTH, GUEST_HEIGHT },
  /* 640×400 at y 40: half size, so window (50, 140) is guest (100, 200). */
  { "scaled-software", TRUE, 640, 480 },
};

static void
test_display_pointer (gconstpointer data)
{
  const PointerCase *pc = data;
  g_autoptr(View) view = NULL;
  double k = MIN ((double) pc->width / GUEST_WIDTH, (double) pc->height / GUEST_HEIGHT);
  int y0 = (pc->height - (int) (GUEST_HEIGHT * k + .5)) / 2;
  const struct { int x, y; } points[] = { { 100, 200 }, { 640, 400 }, { 1278, 798 } };

  if (skip_without_xdotool ())
    return;

  ensure_vm ();
  if (pc->software)
    g_setenv ("CASEMENT_DISPLAY_NO_GL", "1", TRUE);
  view = view_connect (pc->width, pc->height);
  g_unsetenv ("CASEMENT_DISPLAY_NO_GL");
  view_focus (view);
  skip_serial ();

  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    {
      g_autofree char *x = g_strdup_printf ("%d", (int) (points[i].x * k));
      g_autofree char *y = g_strdup_printf ("%d", (int) (points[i].y * k) + y0);
      int gx = (int) ((int) (points[i].x * k) / k);
      int gy = (int) ((int) (points[i].y * k) / k);

      xdo ("mousemove", "--window", view->xid, x, y, NULL);
      /* QEMU scales the client's position to the tablet's 0…32767. */
      g_assert_cmpint (wait_event (3, 0), ==, (int) ((gint64) gx * 32767 / GUEST_WIDTH));
      g_assert_cmpint (wait_event (3, 1), ==, (int) ((gint64) gy * 32767 / GUEST_HEIGHT));
    }

  /* Left, right and middle buttons: BTN_LEFT 272, BTN_RIGHT 273, BTN_MIDDLE 274. */
  xdo ("click", "1", NULL);
  g_assert_cmpint (wait_event (1, 272), ==, 1);
  g_assert_cmpint (wait_event (1, 272), ==, 0);
  xdo ("click", "3", NULL);
  g_assert_cmpint (wait_event (1, 273), ==, 1);
  g_assert_cmpint (wait_event (1, 273), ==, 0);
  xdo ("click", "2", NULL);
  g_assert_cmpint (wait_event (1, 274), ==, 1);
  g_assert_cmpint (wait_event (1, 274), ==, 0);

  /* Two buttons held at once. */
  xdo ("mousedown", "1", NULL);
  g_assert_cmpint (wait_event (1, 272), ==, 1);
  xdo ("mousedown", "3", NULL);
  g_assert_cmpint (wait_event (1, 273), ==, 1);
  xdo ("mouseup", "3", NULL);
  g_assert_cmpint (wait_event (1, 273), ==, 0);
  xdo ("mouseup", "1", NULL);
  g_assert_cmpint (wait_event (1, 272), ==, 0);

  /* Wheel: one notch each way (REL_WHEEL). */
  xdo ("click", "4", NULL);
  g_assert_cmpint (wait_event (2, 8), ==, 1);
  xdo ("click", "5", NULL);
  g_assert_cmpint (wait_event (2, 8), ==, -1);

  /* Back and forward buttons: BTN_SIDE 275, BTN_EXTRA 276. */
  xdo ("click", "8", NULL);
  g_assert_cmpint (wait_event (1, 275), ==, 1);
  g_assert_cmpint (wait_event (1, 275), ==, 0);
  xdo ("click", "9", NULL);
  g_assert_cmpint (wait_event (1, 276), ==, 1);
  g_assert_cmpint (wait_event (1, 276), ==, 0);
}

static gboolean
display_is_presenting (gpointer data)
{
  return casement_display_get_presenting (data);
}

static gboolean
display_is_not_presenting (gpointer data)
{
  return !casement_display_get_presenting (data);
}

/* Shared memory segments of this process the size of the guest's frame,
 * give or take the two partial pages the X11 path leaves out when it
 * shares the frame in place. */
static guint
count_frame_segments (void)
{
  g_autofree char *maps = NULL;
  g_auto(GStrv) lines = NULL;
  gsize frame_size = (gsize) GUEST_WIDTH * GUEST_HEIGHT * 4;
  guint count = 0;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  lines = g_strsplit (maps, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 start, end;

      if (strstr (lines[i], "/SYSV") == NULL ||
          sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x", &start, &end) != 2)
        continue;
      if (end - start <= frame_size && end - start + 2 * 4096 > frame_size)
        count++;
    }

  return count;
}

/* Under GTK's cairo renderer on X11 the frame goes straight to the X
 * server in a window of its own (casement-x11-presenter.c): what is on
 * screen must still be the guest's frame, follow its changes, let the
 * pointer through to GTK, and step back to GTK's drawing when something
 * covers it or the frame is scaled. The X server reads the frame where
 * spice-client-glib keeps it, or (@user_data "mirror") from a copy; the
 * shared pages go back to spice-client-glib before it frees the frame.
 * GTK reads GSK_RENDERER once per process: this runs in a child. */
static void
test_display_x11_path (gconstpointer user_data)
{
  g_autoptr(View) view = NULL;
  g_autofree char *line = NULL;
  gboolean mirror = g_strcmp0 (user_data, "mirror") == 0;
  CasementDisplayStats before, after;

  if (skip_without_xdotool ())
    return;

  if (!g_test_subprocess ())
    {
      ensure_vm ();
      g_setenv ("GSK_RENDERER", "cairo", TRUE);
      if (mirror)
        g_setenv ("CASEMENT_DISPLAY_X11_SHARE", "0", TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SPICE", spice_path, TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SERIAL", serial_path, TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SLUG", casement_vm_get_slug (vm), TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      /* The guest's answers to what the child typed are the child's: a
       * later test here must not take them for answers to its own keys. */
      skip_serial ();
      /* The child reset the guest. */
      guest_tty_ready = FALSE;
      g_unsetenv ("GSK_RENDERER");
      g_unsetenv ("CASEMENT_DISPLAY_X11_SHARE");
      g_test_trap_assert_passed ();
      return;
    }

  spice_path = g_strdup (g_getenv ("CASEMENT_TEST_DISPLAY_SPICE"));
  serial_path = g_strdup (g_getenv ("CASEMENT_TEST_DISPLAY_SERIAL"));
  g_assert_nonnull (spice_path);
  g_assert_nonnull (serial_path);

  /* Screendumps as the command line takes them, next to the parent's
   * connection. */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    vm = casement_vm_new_for_cli (store, g_getenv ("CASEMENT_TEST_DISPLAY_SLUG"));
    casement_vm_attach_async (vm, NULL, store_result_cb, &result);
    await_result (&result, "attach");
    g_assert_true (casement_vm_attach_finish (vm, result, &error));
    g_assert_no_error (error);
  }

#ifndef GDK_WINDOWING_X11
  g_test_skip ("GTK is built without X11");
  return;
#endif
  if (!GDK_IS_X11_DISPLAY (gdk_display_get_default ()))
    {
      g_test_skip ("Not an X11 display");
      return;
    }

  view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);
  g_assert_true (wait_for (display_is_presenting, view->display, STEP_TIMEOUT_S));
  check_frame (view, mirror ? "x11-mirror-1280x800" : "x11-1280x800", NULL, 0, 0.0);
  g_assert_cmpuint (count_frame_segments (), ==, 1);

  /* Later frames arrive too: the guest swaps its pattern's halves. */
  view_focus (view);
  wait_guest_tty (view);
  g_assert_true (wait_for (display_is_presenting, view->display, STEP_TIMEOUT_S));
  casement_display_get_stats (view->display, &before);
  type_line ("tg swap");
  line = wait_serial ("^GOT:");
  g_assert_cmpstr (line, ==, "GOT:tg swap");
  g_free (wait_serial ("^TG: pattern swapped"));
  g_assert_true (wait_for (display_is_presenting, view->display, STEP_TIMEOUT_S));
  check_frame (view, mirror ? "x11-mirror-swapped" : "x11-swapped", NULL, 0, 0.0);
  casement_display_get_stats (view->display, &after);
  g_assert_cmpuint (after.uploaded_pixels, >, before.uploaded_pixels);
  if (mirror)
    g_assert_cmpuint (after.copied_pixels - before.copied_pixels, ==, after.uploaded_pixels - before.uploaded_pixels);
  else
    g_assert_cmpuint (after.copied_pixels, ==, before.copied_pixels);

  if (mirror)
    {
      /* The other tests expect the pattern as it was. */
      skip_serial ();
      type_line ("tg swap");
      g_free (wait_serial ("^TG: pattern swapped"));
      return;
    }

  /* The frame's window takes no input: GTK still gets the pointer. */
  skip_serial ();
  xdo ("mousemove", "--window", view->xid, "640", "400", NULL);
  g_assert_cmpint (wait_event (3, 0), ==, (int) ((gint64) 640 * 32767 / GUEST_WIDTH));
  g_assert_cmpint (wait_event (3, 1), ==, (int) ((gint64) 400 * 32767 / GUEST_HEIGHT));
  xdo ("click", "1", NULL);
  g_assert_cmpint (wait_event (1, 272), ==, 1);
  g_assert_cmpint (wait_event (1, 272), ==, 0);

  /* Covered (a toast over it): GTK draws the frame, and the same frame. */
  casement_display_set_covered (view->display, TRUE);
  g_assert_false (casement_display_get_presenting (view->display));
  check_frame (view, "x11-covered", NULL, 0, 0.0);
  casement_display_set_covered (view->display, FALSE);
  g_assert_true (casement_display_get_presenting (view->display));
  check_frame (view, "x11-uncovered", NULL, 0, 0.0);

  /* Scaled, the frame goes through GTK again. */
  gtk_window_set_default_size (view->window, 640, 480);
  g_assert_true (wait_for (display_is_not_presenting, view->display, STEP_TIMEOUT_S));
  check_frame (view, "x11-scaled-640x480", NULL, 24, 0.01);

  /* A reset replaces the guest's frame (spice-client-glib frees the old
   * one): its pages come back unshared, the new one is shared, and the
   * pattern is the guest's first again, as the other tests expect. */
  gtk_window_set_default_size (view->window, GUEST_WIDTH, GUEST_HEIGHT);
  g_assert_true (wait_for (display_is_presenting, view->display, STEP_TIMEOUT_S));
  skip_serial ();
  vm_reset ();
  g_free (wait_serial ("^TG: pattern drawn"));
  g_assert_true (wait_for (display_is_presenting, view->display, STEP_TIMEOUT_S));
  check_frame (view, "x11-after-reset", NULL, 0, 0.0);
  g_assert_cmpuint (count_frame_segments (), ==, 1);

  g_clear_pointer (&view, view_free);
  g_assert_cmpuint (count_frame_segments (), ==, 0);
}

/* At scale factor 2 the widget works in logical pixels, X and the guest in
 * device pixels: a 640×400 window holds the whole guest 1:1. GDK reads
 * GDK_SCALE once, at start: this runs in a child process. */
static void
test_display_hidpi (gconstpointer user_data)
{
  g_autoptr(View) view = NULL;
  const struct { int x, y; } points[] = { { 100, 200 }, { 1278, 798 } };
  gboolean cairo = g_strcmp0 (user_data, "cairo") == 0;

  if (skip_without_xdotool ())
    return;

  if (!g_test_subprocess ())
    {
      g_autofree char *dump_path = g_build_filename (frames_dir, "hidpi-screendump.png", NULL);

      ensure_vm ();
      screendump (dump_path);
      g_setenv ("GDK_SCALE", "2", TRUE);
      if (cairo)
        g_setenv ("GSK_RENDERER", "cairo", TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SPICE", spice_path, TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SERIAL", serial_path, TRUE);
      g_setenv ("CASEMENT_TEST_DISPLAY_SCREENDUMP", dump_path, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      /* The guest's answers to what the child typed are the child's: a
       * later test here must not take them for answers to its own keys. */
      skip_serial ();
      g_unsetenv ("GDK_SCALE");
      g_unsetenv ("GSK_RENDERER");
      g_test_trap_assert_passed ();
      return;
    }

  spice_path = g_strdup (g_getenv ("CASEMENT_TEST_DISPLAY_SPICE"));
  serial_path = g_strdup (g_getenv ("CASEMENT_TEST_DISPLAY_SERIAL"));
  g_assert_nonnull (spice_path);
  g_assert_nonnull (serial_path);

  view = view_connect (GUEST_WIDTH / 2, GUEST_HEIGHT / 2);
  g_assert_cmpint (gtk_widget_get_scale_factor (GTK_WIDGET (view->display)), ==, 2);

  /* The capture renders at scale 1, i.e. the 1:1 device image halved.
   * Before the pointer comes in: that shows the grab hint. */
  check_frame (view, "hidpi", g_getenv ("CASEMENT_TEST_DISPLAY_SCREENDUMP"), 24, 0.01);

  view_focus (view);
  skip_serial ();

  /* xdotool speaks device pixels: window (x, y) is guest (x, y). */
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    {
      g_autofree char *x = g_strdup_printf ("%d", points[i].x);
      g_autofree char *y = g_strdup_printf ("%d", points[i].y);

      xdo ("mousemove", "--window", view->xid, x, y, NULL);
      g_assert_cmpint (wait_event (3, 0), ==, (int) ((gint64) points[i].x * 32767 / GUEST_WIDTH));
      g_assert_cmpint (wait_event (3, 1), ==, (int) ((gint64) points[i].y * 32767 / GUEST_HEIGHT));
    }

  /* Under the cairo renderer the guest shows 1:1 in device pixels, so
   * the frame goes straight to the X server, exactly. */
  if (cairo)
    {
      g_assert_true (wait_for (display_is_presenting, view->display, STEP_TIMEOUT_S));
      check_frame (view, "hidpi-x11", g_getenv ("CASEMENT_TEST_DISPLAY_SCREENDUMP"), 0, 0.0);
    }
}

/* The channel types (spice/enums.h) of the client connected to the VM's
 * SPICE server, as QEMU lists them. */
static guint
spice_channel_types (void)
{
  g_autoptr(JsonNode) reply = qmp ("query-spice");
  JsonObject *spice = json_node_get_object (reply);
  JsonArray *channels = json_object_get_array_member (spice, "channels");
  guint seen = 0;

  g_assert_cmpstr (json_object_get_string_member (spice, "mouse-mode"), ==, "client");
  for (guint i = 0; i < json_array_get_length (channels); i++)
    seen |= 1 << json_object_get_int_member (json_array_get_object_element (channels, i), "channel-type");

  return seen;
}

#define CHANNEL_MAIN     (1 << 1)
#define CHANNEL_DISPLAY  (1 << 2)
#define CHANNEL_INPUTS   (1 << 3)
#define CHANNEL_CURSOR   (1 << 4)
#define CHANNEL_PLAYBACK (1 << 5)

static void
test_display_channels (void)
{
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;
  guint expected = CHANNEL_MAIN | CHANNEL_DISPLAY | CHANNEL_INPUTS | CHANNEL_CURSOR;

  if (skip_without_display ())
    return;

  ensure_vm ();

  {
    g_autoptr(View) view = view_connect (640, 400);

    /* Sound stays off unless asked for. */
    spin (1000);
    g_assert_cmphex (spice_channel_types (), ==, expected);

    /* With a session, the USB manager answers (this machine may have no
     * USB device at all, so only the call is checked). */
    devices = casement_display_list_usb_devices (view->display, &error);
    g_assert_no_error (error);
    g_assert_nonnull (devices);
    g_test_message ("%u USB devices could be redirected", devices->len);
  }

  {
    g_autoptr(View) view = view_new (640, 400);

    casement_display_set_audio (view->display, TRUE);
    casement_display_connect (view->display, spice_path);
    g_assert_true (wait_for (display_is_running, view->display, STEP_TIMEOUT_S));
    spin (1000);
    g_assert_cmphex (spice_channel_types (), ==, expected | CHANNEL_PLAYBACK);
  }
}

/* Types @text + Enter and checks the line the guest reads. */
static void
check_typed (const char *text,
             const char *expected)
{
  g_autofree char *line = NULL;
  g_autofree char *expected_line = g_strconcat ("GOT:", expected, NULL);

  type_line (text);
  line = wait_serial ("^GOT:");
  g_assert_cmpstr (line, ==, expected_line);
}

/* QEMU's trace of the keys it puts into the guest's keyboard goes to its
 * stderr, the VM's qemu.log; returns the log's size so far. */
static goffset
trace_guest_keys (gboolean enable)
{
  g_autoptr(JsonNode) reply = NULL;
  g_autofree char *vm_dir = casement_vm_dup_vm_dir (vm);
  g_autofree char *log_path = g_build_filename (vm_dir, CASEMENT_VM_QEMU_LOG, NULL);
  GStatBuf st;

  /* QMP's trace-event-set-state turns the event on, but only the monitor's
   * log command also switches on the log output that carries it. */
  reply = qmp_with_arguments ("human-monitor-command",
                              enable ? "{\"command-line\": \"log trace:input_event_key_qcode\"}"
                                     : "{\"command-line\": \"log none\"}");
  g_assert_cmpstr (json_node_get_string (reply), ==, "");
  g_assert_cmpint (g_stat (log_path, &st), ==, 0);

  return st.st_size;
}

/* How many times the guest's keyboard saw Caps Lock go down since @offset
 * in qemu.log. */
static guint
count_guest_caps_lock_presses (goffset offset)
{
  g_autofree char *vm_dir = casement_vm_dup_vm_dir (vm);
  g_autofree char *log_path = g_build_filename (vm_dir, CASEMENT_VM_QEMU_LOG, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  gsize length;
  guint presses = 0;

  g_file_get_contents (log_path, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpint (offset, <=, (goffset) length);

  lines = g_strsplit (contents + offset, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (strstr (lines[i], "input_event_key_qcode") != NULL)
        g_test_message ("%s", lines[i]);
      if (strstr (lines[i], "key qcode caps_lock, down 1") != NULL)
        presses++;
    }

  return presses;
}

/* A display that has the focus before it connects: nothing syncs on a
 * focus change, the connection alone must bring the guest's Caps Lock in
 * line with the host's. Returns how many times the guest's keyboard saw
 * Caps Lock go down meanwhile. */
static guint
connect_focused_and_type (const char *text,
                          const char *expected)
{
  g_autoptr(View) view = view_new (GUEST_WIDTH, GUEST_HEIGHT);
  goffset log_offset = trace_guest_keys (TRUE);

  view_focus (view);
  casement_display_connect (view->display, spice_path);
  g_assert_true (wait_for (display_is_running, view->display, STEP_TIMEOUT_S));
  check_typed (text, expected);
  trace_guest_keys (FALSE);

  return count_guest_caps_lock_presses (log_offset);
}

/* Caps Lock toggled while the focus was elsewhere reaches the guest when
 * the focus comes back, before the keys typed right away; a display that
 * connects toggles the guest's Caps Lock once if it differs from the
 * host's, and not at all if it does not. */
static void
test_display_lock_keys (void)
{
  g_autoptr(View) other = NULL;

  if (skip_without_xdotool ())
    return;

  ensure_vm ();
  other = view_new (200, 100);

  {
    g_autoptr(View) view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);

    view_focus (view);
    wait_guest_tty (view);

    /* No pause after the focus comes back: the keys race the guest's
     * own Caps Lock press. */
    view_focus (other);
    xdo ("key", "Caps_Lock", NULL);
    view_focus (view);
    check_typed ("a", "A");

    view_focus (other);
    xdo ("key", "Caps_Lock", NULL);
    view_focus (view);
    check_typed ("b", "b");

    /* Both keep Caps Lock on after this display is gone. */
    view_focus (other);
    xdo ("key", "Caps_Lock", NULL);
    view_focus (view);
    check_typed ("c", "C");
  }

  g_assert_cmpuint (connect_focused_and_type ("d", "D"), ==, 0);

  view_focus (other);
  xdo ("key", "Caps_Lock", NULL);
  g_assert_cmpuint (connect_focused_and_type ("e", "e"), ==, 1);
}

/* Keys pressed elsewhere and released here, and keys held until they
 * repeat, leave nothing pressed in the guest. */
static void
test_display_held_keys (void)
{
  g_autoptr(View) view = NULL;
  g_autoptr(View) other = NULL;
  g_autofree char *line = NULL;

  if (skip_without_xdotool ())
    return;

  ensure_vm ();
  view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);
  other = view_new (200, 100);
  view_focus (view);
  wait_guest_tty (view);

  /* Shift went down in another window: its release here must not reach
   * the guest as a release of a key it never saw, nor leave it down. */
  view_focus (other);
  xdo ("keydown", "shift", NULL);
  view_focus (view);
  xdo ("keyup", "shift", NULL);
  check_typed ("ab", "ab");

  /* X repeats a held key as more presses and one release. */
  xdo ("keydown", "c", NULL);
  spin (1500);
  xdo ("keyup", "c", NULL);
  xdo ("key", "Return", NULL);
  line = wait_serial ("^GOT:");
  g_test_message ("held c: %s", line);
  g_assert_true (g_regex_match_simple ("^GOT:ccc+$", line, 0, 0));

  /* Shift held long enough to repeat, with a letter typed meanwhile. */
  xdo ("keydown", "shift", NULL);
  spin (1200);
  xdo ("key", "x", NULL);
  xdo ("keyup", "shift", NULL);
  check_typed ("y", "Xy");
}

typedef struct
{
  guint    states;  /* one bit per CasementDisplayState seen */
  GString *sizes;   /* the guest sizes shown, in order */
} StateLog;

static void
record_state_cb (CasementDisplay *display,
                 GParamSpec      *pspec,
                 StateLog        *log)
{
  int width, height;

  log->states |= 1 << casement_display_get_state (display);
  if (casement_display_get_state (display) == CASEMENT_DISPLAY_STATE_RUNNING &&
      casement_display_get_guest_size (display, &width, &height))
    g_string_append_printf (log->sizes, " %d×%d", width, height);
}

/* The VM stops: the widget says so; it starts again: Reconnect works. */
static void
test_display_reconnect (void)
{
  g_autoptr(View) view = NULL;
  GtkWidget *status;
  guint reconnects = 0;
  StateLog log = { 0, NULL };

  if (skip_without_display ())
    return;

  ensure_vm ();
  view = view_connect (GUEST_WIDTH, GUEST_HEIGHT);
  g_signal_connect_swapped (view->display, "reconnect", G_CALLBACK (count_cb), &reconnects);
  status = find_child (GTK_WIDGET (view->display), ADW_TYPE_STATUS_PAGE);
  g_assert_false (gtk_widget_get_visible (status));

  vm_force_off ();
  g_assert_true (wait_for (display_is_disconnected, view->display, STEP_TIMEOUT_S));
  g_assert_true (gtk_widget_get_visible (status));
  g_assert_false (casement_display_get_guest_size (view->display, NULL, NULL));

  vm_start ();
  skip_serial ();
  g_free (wait_serial ("^TG: pattern drawn"));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view->display), "display.reconnect", NULL));
  g_assert_cmpuint (reconnects, ==, 1);
  g_assert_true (wait_for (display_is_running, view->display, STEP_TIMEOUT_S));
  g_assert_false (gtk_widget_get_visible (status));

  check_frame (view, "reconnected", NULL, 2, 0.0);

  /* A reset makes the guest drop its screen and set a mode again: the
   * widget waits for the new surface and shows it, on the same session. */
  log.sizes = g_string_new (NULL);
  g_signal_connect (view->display, "notify::state", G_CALLBACK (record_state_cb), &log);
  vm_reset ();
  skip_serial ();
  g_free (wait_serial ("^TG: pattern drawn"));
  g_assert_true (wait_for (display_is_running, view->display, STEP_TIMEOUT_S));
  g_signal_handlers_disconnect_by_func (view->display, record_state_cb, &log);
  g_test_message ("guest screens shown across the reset:%s", log.sizes->str);
  g_string_free (log.sizes, TRUE);
  g_assert_cmpint (log.states & (1 << CASEMENT_DISPLAY_STATE_WAITING), !=, 0);
  g_assert_cmpint (log.states & (1 << CASEMENT_DISPLAY_STATE_DISCONNECTED), ==, 0);
  check_frame (view, "after-reset", NULL, 2, 0.0);
}

/* ------------------------------------------------------------------ */
/* The guest's cursor                                                  */
/* ------------------------------------------------------------------ */

#ifdef GDK_WINDOWING_X11
typedef struct
{
  CasementDisplay *display;
  Display         *xdisplay;
  gboolean         blank;   /* hidden, not the guest's picture */
  gboolean         report;  /* say what differs */
} CursorCheck;

/* Whether @pixels (@width × @height ARGB words, premultiplied, as GDK and
 * XFixes give them; @long_words for XFixes' longs) is the guest's
 * picture. The picture's alpha is 0 or 255, so premultiplying changes
 * none of its pixels. */
static gboolean
cursor_pixels_match (CursorCheck   *check,
                     const char    *what,
                     gsize          width,
                     gsize          height,
                     gconstpointer  pixels,
                     gboolean       long_words)
{
  guint bad = 0;

  if (width != TG_CURSOR_SIZE || height != TG_CURSOR_SIZE)
    {
      if (check->report)
        g_test_message ("%s cursor is %" G_GSIZE_FORMAT "×%" G_GSIZE_FORMAT ", not %d×%d",
                        what, width, height, TG_CURSOR_SIZE, TG_CURSOR_SIZE);
      return FALSE;
    }

  for (guint y = 0; y < TG_CURSOR_SIZE; y++)
    for (guint x = 0; x < TG_CURSOR_SIZE; x++)
      {
        gsize i = y * TG_CURSOR_SIZE + x;
        guint32 got = long_words ? (guint32) ((const unsigned long *) pixels)[i]
                                 : ((const guint32 *) pixels)[i];
        guint32 want = tg_cursor_pixel (x, y);

        if (got != want && bad++ < 4 && check->report)
          g_test_message ("%s cursor pixel %u,%u is %08x, the guest's %08x", what, x, y, got, want);
      }

  if (bad > 0 && check->report)
    g_test_message ("%s cursor differs from the guest's in %u pixels", what, bad);

  return bad == 0;
}

/* The widget's cursor as GTK has it. */
static gboolean
widget_cursor_matches (gpointer data)
{
  CursorCheck *check = data;
  GdkCursor *cursor = gtk_widget_get_cursor (GTK_WIDGET (check->display));
  GdkTexture *texture;
  g_autofree guint32 *pixels = NULL;
  int width, height;

  if (check->blank)
    return cursor != NULL && g_strcmp0 (gdk_cursor_get_name (cursor), "none") == 0;

  if (cursor == NULL || (texture = gdk_cursor_get_texture (cursor)) == NULL)
    {
      if (check->report)
        g_test_message ("the widget's cursor is %s",
                        cursor == NULL ? "unset" : gdk_cursor_get_name (cursor));
      return FALSE;
    }

  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);
  pixels = g_new (guint32, (gsize) width * height);
  /* Cairo's ARGB32: native-endian words, premultiplied. */
  gdk_texture_download (texture, (guchar *) pixels, (gsize) width * 4);

  if (check->report)
    g_test_message ("the widget's cursor hot spot: %d,%d", gdk_cursor_get_hotspot_x (cursor),
                    gdk_cursor_get_hotspot_y (cursor));

  return cursor_pixels_match (check, "the widget's", width, height, pixels, FALSE) &&
         gdk_cursor_get_hotspot_x (cursor) == TG_CURSOR_HOT_X &&
         gdk_cursor_get_hotspot_y (cursor) == TG_CURSOR_HOT_Y;
}

/* What the X server shows as the pointer right now. */
static gboolean
x_cursor_matches (gpointer data)
{
  CursorCheck *check = data;
  XFixesCursorImage *image;
  gboolean ok = TRUE;

  XSync (check->xdisplay, False);
  image = XFixesGetCursorImage (check->xdisplay);
  g_assert_nonnull (image);

  if (check->report)
    g_test_message ("the X server's cursor: %u×%u, hot spot %u,%u",
                    image->width, image->height, image->xhot, image->yhot);

  if (!check->blank)
    ok = cursor_pixels_match (check, "the X server's", image->width, image->height,
                              image->pixels, TRUE) &&
         image->xhot == TG_CURSOR_HOT_X && image->yhot == TG_CURSOR_HOT_Y;
  else
    for (gsize i = 0; i < (gsize) image->width * image->height && ok; i++)
      ok = (image->pixels[i] & 0xff000000) == 0;

  XFree (image);

  return ok;
}

/* Waits until @condition holds for @check, else fails saying why. */
static void
wait_cursor (Condition    condition,
             CursorCheck *check,
             gboolean     blank,
             const char  *what)
{
  check->blank = blank;
  check->report = FALSE;
  if (wait_for (condition, check, STEP_TIMEOUT_S))
    return;

  check->report = TRUE;
  if (!condition (check))
    g_error ("%s within %d s", what, STEP_TIMEOUT_S);
}
#endif

/* A guest with a hardware cursor (qxl DRM driver; tests/guest/tg-cursor.c
 * sets it): what the user sees over the widget is the guest's cursor,
 * pixel for pixel and with its hot spot, and nothing once the guest hides
 * it. */
static void
test_display_cursor_shape (void)
{
#ifndef GDK_WINDOWING_X11
  g_test_skip ("GTK is built without X11: the test reads the X server's cursor");
#else
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(View) view = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *line = NULL;
  g_autofree char *x = NULL;
  g_autofree char *y = NULL;
  int event_base, error_base;
  int guest_width, guest_height;
  CursorCheck check = { NULL, };

  if (skip_without_xdotool ())
    return;

  if (!GDK_IS_X11_DISPLAY (gdk_display_get_default ()))
    {
      g_test_skip ("Not an X11 display");
      return;
    }
  check.xdisplay = gdk_x11_display_get_xdisplay (gdk_display_get_default ());
  if (!XFixesQueryExtension (check.xdisplay, &event_base, &error_base))
    {
      g_test_skip ("The X server lacks the XFIXES extension, which shows its cursor");
      return;
    }

  /* The pattern guest's efifb has no hardware cursor: this one runs the
   * qxl DRM driver instead, alone (two TCG guests would crowd the host). */
  drop_vm ();
  config = casement_test_guest_config_new ("Cursor Test", "cursor", NULL);
  slug = create_vm (config);
  boot_vm (slug);
  line = wait_serial ("^TG: cursor (crtc|error)");
  g_assert_true (g_str_has_prefix (line, "TG: cursor crtc "));
  g_assert_cmpint (sscanf (strstr (line, " mode ") + 6, "%dx%d", &guest_width, &guest_height), ==, 2);
  g_free (wait_serial ("^TG: cursor ready"));

  view = view_connect (guest_width, guest_height);
  check.display = view->display;
  wait_cursor (widget_cursor_matches, &check, FALSE,
               "The widget's cursor did not become the guest's");

  /* The X server shows it where the pointer is over the widget. */
  view_focus (view);
  x = g_strdup_printf ("%d", guest_width / 3);
  y = g_strdup_printf ("%d", guest_height / 3);
  xdo ("mousemove", "--window", view->xid, x, y, NULL);
  wait_cursor (x_cursor_matches, &check, FALSE,
               "The X server's cursor over the widget did not become the guest's");

  /* The guest moving its cursor changes nothing here: the host's pointer
   * is where the cursor is (client mouse mode, the tablet). */
  wait_guest_tty (view);
  type_line ("tg cursor move 200 150");
  g_free (wait_serial ("^TG: cursor moved 200,150"));
  spin (500);
  wait_cursor (widget_cursor_matches, &check, FALSE,
               "The widget's cursor changed when the guest moved it");

  type_line ("tg cursor hide");
  g_free (wait_serial ("^TG: cursor hidden"));
  wait_cursor (widget_cursor_matches, &check, TRUE,
               "The widget's cursor was not hidden after the guest hid its cursor");
  wait_cursor (x_cursor_matches, &check, TRUE,
               "The X server still shows a cursor after the guest hid its cursor");

  /* And back. */
  type_line ("tg cursor show");
  g_free (wait_serial ("^TG: cursor shown"));
  wait_cursor (widget_cursor_matches, &check, FALSE, "The widget's cursor did not come back");
  wait_cursor (x_cursor_matches, &check, FALSE, "The X server's cursor did not come back");

  g_clear_pointer (&view, view_free);
  vm_force_off ();
  casement_test_vm_assert_no_leftovers (vm);
  drop_vm ();
#endif
}

/* ------------------------------------------------------------------ */
/* The guest's SPICE agent                                             */
/* ------------------------------------------------------------------ */

/* Long enough for the widget's wait for the size to settle, then
 * spice-client-glib's own (a second), and TCG's slowness. */
#define AGENT_QUIET_MS 5000

static char *agent_slug;

static gboolean
display_has_agent (gpointer data)
{
  return casement_display_get_agent_connected (data);
}

/* Boots the pattern guest with its SPICE agent (tests/guest/tg-agent.c)
 * in place of the shared one, which runs without: the other tests rely
 * on a guest that gets no monitor configurations. */
static void
boot_agent_vm (void)
{
  g_autofree char *line = NULL;

  drop_vm ();
  if (agent_slug == NULL)
    {
      g_autoptr(CasementVmConfig) config = NULL;

      config = casement_test_guest_config_new ("Agent Test", "pattern", "tg.agent=1");
      agent_slug = create_vm (config);
    }
  boot_vm (agent_slug);
  /* The agent starts in the background, maybe before "TG: ready". */
  serial_lines_seen = 0;
  line = wait_serial ("^TG: agent (ready|error)");
  g_assert_cmpstr (line, ==, "TG: agent ready");
  g_free (wait_serial ("^TG: pattern drawn"));
}

static void
drop_agent_vm (void)
{
  vm_force_off ();
  casement_test_vm_assert_no_leftovers (vm);
  drop_vm ();
}

/* Shows a display and waits until it sees the guest's agent. */
static View *
view_connect_agent (int width,
                    int height)
{
  View *view = view_connect (width, height);

  if (!wait_for (display_has_agent, view->display, STEP_TIMEOUT_S))
    g_error ("The display did not see the guest's agent within %d s", STEP_TIMEOUT_S);

  return view;
}

/* Resizes the view's window and waits until the widget has the size. */
static void
view_resize (View *view,
             int   width,
             int   height)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) STEP_TIMEOUT_S * G_USEC_PER_SEC;
  GtkWidget *widget = GTK_WIDGET (view->display);

  gtk_window_set_default_size (view->window, width, height);
  while (gtk_widget_get_width (widget) != width || gtk_widget_get_height (widget) != height)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("The display is %d×%d, not %d×%d, %d s after the window was resized",
                 gtk_widget_get_width (widget), gtk_widget_get_height (widget),
                 width, height, STEP_TIMEOUT_S);
      spin (20);
    }
}

/* Waits for the guest's agent to report a monitors config with one
 * enabled monitor, at the origin, of the view's size in device pixels.
 * Returns how long it took, in ms. */
static gint64
wait_monitors_config (View *view)
{
  GtkWidget *widget = GTK_WIDGET (view->display);
  int scale = gtk_widget_get_scale_factor (widget);
  int width = gtk_widget_get_width (widget) * scale;
  int height = gtk_widget_get_height (widget) * scale;
  g_autofree char *regex = g_strdup_printf ("^TG: agent monitors [0-9]+ %dx%d\\+0\\+0\\s*$", width, height);
  g_autofree char *line = NULL;
  g_autofree char *log = NULL;
  gint64 start = g_get_monotonic_time ();
  int requested_width, requested_height;

  line = try_wait_serial ("^TG: agent monitors", STEP_TIMEOUT_S * 1000, &log);
  if (line == NULL)
    g_error ("The guest's agent got no monitors config in %d s; the guest's log:\n%s",
             STEP_TIMEOUT_S, log != NULL ? log : "(none)");
  if (!g_regex_match_simple (regex, line, 0, 0))
    g_error ("The guest's agent got “%s”, not a config for %d×%d", line, width, height);
  g_test_message ("%s", line);

  g_assert_true (casement_display_get_requested_guest_size (view->display, &requested_width, &requested_height));
  g_assert_cmpint (requested_width, ==, width);
  g_assert_cmpint (requested_height, ==, height);

  return (g_get_monotonic_time () - start) / 1000;
}

/* The agent asks the guest for the widget's size: first when it connects,
 * then after each resize (once the size settles), and not at all while
 * resizing the guest is off. */
static void
test_display_agent_resize (void)
{
  g_autoptr(View) view = NULL;
  g_autofree char *line = NULL;
  gint64 ms;

  if (skip_without_display ())
    return;

  boot_agent_vm ();
  view = view_connect_agent (1024, 640);
  ms = wait_monitors_config (view);
  g_test_message ("First monitors config %" G_GINT64_FORMAT " ms after the agent connected", ms);

  view_resize (view, 900, 560);
  ms = wait_monitors_config (view);
  g_test_message ("Monitors config %" G_GINT64_FORMAT " ms after a resize", ms);

  view_resize (view, 1100, 700);
  ms = wait_monitors_config (view);
  g_test_message ("Monitors config %" G_GINT64_FORMAT " ms after a second resize", ms);

  /* Off: the widget keeps its size to itself (and scales the frame). */
  casement_display_set_resize_guest (view->display, FALSE);
  view_resize (view, 800, 500);
  line = try_wait_serial ("^TG: agent monitors", AGENT_QUIET_MS, NULL);
  if (line != NULL)
    g_error ("The guest's agent got “%s” with resizing the guest off", line);

  g_clear_pointer (&view, view_free);
  drop_agent_vm ();
}

static char *
read_clipboard (GdkClipboard *clipboard)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *text;

  gdk_clipboard_read_text_async (clipboard, NULL, store_result_cb, &result);
  await_result (&result, "reading the clipboard");
  text = gdk_clipboard_read_text_finish (clipboard, result, &error);
  g_assert_no_error (error);

  return text;
}

static void
wait_clipboard (GdkClipboard *clipboard,
                const char   *expected)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) STEP_TIMEOUT_S * G_USEC_PER_SEC;

  for (;;)
    {
      g_autofree char *text = read_clipboard (clipboard);

      if (g_strcmp0 (text, expected) == 0)
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("The clipboard holds “%s”, not “%s”, after %d s",
                 text != NULL ? text : "(nothing)", expected, STEP_TIMEOUT_S);
      spin (100);
    }
}

static void
assert_no_serial (const char *regex,
                  const char *what)
{
  g_autofree char *line = try_wait_serial (regex, AGENT_QUIET_MS, NULL);

  if (line != NULL)
    g_error ("%s: the guest printed “%s”", what, line);
}

/* Text goes both ways between the widget's clipboard and the guest's
 * agent, and neither way while clipboard sharing is off. */
static void
test_display_clipboard (void)
{
  static const char * const to_guest[] = {
    "host to guest, 1 2 3",
    "Grüße aus dem Wirt, 世界 ✓",
  };
  const char *to_host = "guest to host 42";
  g_autoptr(View) view = NULL;
  g_autofree char *expected = NULL;
  GdkClipboard *clipboard;
  gint64 start;

  if (skip_without_xdotool ())
    return;

  boot_agent_vm ();
  view = view_connect_agent (GUEST_WIDTH, GUEST_HEIGHT);
  clipboard = gtk_widget_get_clipboard (GTK_WIDGET (view->display));
  g_assert_true (casement_display_get_clipboard_sharing (view->display));

  /* Host to guest: the agent hears of the text, asks for it, prints it. */
  for (guint i = 0; i < G_N_ELEMENTS (to_guest); i++)
    {
      g_autofree char *escaped = g_regex_escape_string (to_guest[i], -1);
      g_autofree char *regex = g_strdup_printf ("^TG: agent clipboard 0 %s\\s*$", escaped);
      g_autofree char *line = NULL;

      skip_serial ();
      start = g_get_monotonic_time ();
      gdk_clipboard_set_text (clipboard, to_guest[i]);
      line = wait_serial ("^TG: agent clipboard ");
      if (!g_regex_match_simple (regex, line, 0, 0))
        g_error ("The guest's agent got “%s”, not “%s”", line, to_guest[i]);
      g_test_message ("%s", line);
      g_test_message ("Host to guest: %" G_GINT64_FORMAT " ms",
                      (g_get_monotonic_time () - start) / 1000);
    }

  /* Guest to host: typed in the guest, the text lands in our clipboard,
   * and does not bounce back to the guest. */
  view_focus (view);
  wait_guest_tty (view);
  {
    g_autofree char *command = g_strconcat ("tg agent copy ", to_host, NULL);

    start = g_get_monotonic_time ();
    type_line (command);
  }
  g_free (wait_serial ("^TG: agent grabbed"));
  expected = g_strdup_printf ("^TG: agent sent %zu bytes", strlen (to_host));
  g_free (wait_serial (expected));
  wait_clipboard (clipboard, to_host);
  g_test_message ("Guest to host (from the typed line): %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - start) / 1000);
  assert_no_serial ("^TG: agent clipboard", "The guest's own text came back to it");

  /* Off: neither way. */
  casement_display_set_clipboard_sharing (view->display, FALSE);
  skip_serial ();
  gdk_clipboard_set_text (clipboard, "not for the guest");
  assert_no_serial ("^TG: agent clipboard", "Host text reached the guest with sharing off");

  type_line ("tg agent copy not for the host");
  g_free (wait_serial ("^TG: agent grabbed"));
  assert_no_serial ("^TG: agent sent", "The widget fetched the guest's text with sharing off");
  {
    g_autofree char *text = read_clipboard (clipboard);

    g_assert_cmpstr (text, ==, "not for the guest");
  }

  /* On again: the host's clipboard as it is now goes to the guest. */
  casement_display_set_clipboard_sharing (view->display, TRUE);
  g_free (wait_serial ("^TG: agent clipboard 0 not for the guest\\s*$"));

  g_clear_pointer (&view, view_free);
  drop_agent_vm ();
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(CasementTestGuestEnv) env = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  /* A subprocess test works in its parent's folders and VM. */
  if (!g_test_subprocess ())
    {
      if (!(env = casement_test_guest_env_new (&error)))
        g_error ("%s", error->message);
      if (!casement_test_guest_ensure (NULL, NULL, &error))
        g_error ("%s", error->message);
    }

  /* Without a session bus GIO would autolaunch one for GTK: a stray
   * dbus-daemon that inherits the private XDG_RUNTIME_DIR and starts the
   * document portal, which mounts a FUSE file system in it. */
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_autofree char *no_bus = g_build_filename (g_get_user_runtime_dir (), "no-session-bus", NULL);
      g_autofree char *address = g_strconcat ("unix:path=", no_bus, NULL);

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
    }

  /* Off the accessibility bus, as the other GTK suites: it lives at one
   * path per user, which another session ending at the same time takes
   * away from under GTK (seen as a critical in a child process). */
  g_setenv ("GTK_A11Y", "none", TRUE);

  /* Only an X display runs these; Wayland has no xdotool nor window
   * placement, so the tests ask for X (xvfb-run). */
  gdk_set_allowed_backends ("x11");
  have_display = gtk_init_check ();
  if (have_display)
    adw_init ();
  xdotool = g_find_program_in_path ("xdotool");

  frames_dir = g_build_filename (g_test_get_dir (G_TEST_BUILT), "test-display-frames", NULL);
  g_mkdir_with_parents (frames_dir, 0755);

  store = casement_vm_store_new (NULL);
  signal (SIGABRT, on_fatal_signal);
  signal (SIGTRAP, on_fatal_signal);
  signal (SIGSEGV, on_fatal_signal);
  signal (SIGTERM, on_fatal_signal);

  g_test_add_func ("/Casement/Display/defaults", test_display_defaults);
  g_test_add_func ("/Casement/Display/connect-refused", test_display_connect_refused);
  for (guint i = 0; i < G_N_ELEMENTS (frame_paths); i++)
    {
      g_autofree char *path = g_strdup_printf ("/Casement/Display/frame/%s", frame_paths[i].name);
      g_test_add_data_func (path, &frame_paths[i], test_display_frame);
    }
  g_test_add_func ("/Casement/Display/keyboard", test_display_keyboard);
  g_test_add_func ("/Casement/Display/focus-loss", test_display_focus_loss);
  g_test_add_func ("/Casement/Display/grab", test_display_grab);
  for (guint i = 0; i < G_N_ELEMENTS (pointer_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/Casement/Display/pointer/%s", pointer_cases[i].name);
      g_test_add_data_func (path, &pointer_cases[i], test_display_pointer);
    }
  g_test_add_data_func ("/Casement/Display/hidpi", "gl", test_display_hidpi);
  g_test_add_data_func ("/Casement/Display/hidpi-x11", "cairo", test_display_hidpi);
  g_test_add_data_func ("/Casement/Display/x11-path", "shared", test_display_x11_path);
  g_test_add_data_func ("/Casement/Display/x11-path-mirror", "mirror", test_display_x11_path);
  g_test_add_func ("/Casement/Display/channels", test_display_channels);
  g_test_add_func ("/Casement/Display/lock-keys", test_display_lock_keys);
  g_test_add_func ("/Casement/Display/held-keys", test_display_held_keys);
  g_test_add_func ("/Casement/Display/reconnect", test_display_reconnect);
  g_test_add_func ("/Casement/Display/cursor-shape", test_display_cursor_shape);
  g_test_add_func ("/Casement/Display/agent-resize", test_display_agent_resize);
  g_test_add_func ("/Casement/Display/clipboard", test_display_clipboard);

  status = g_test_run ();

  if (vm != NULL && qemu_pid > 0)
    vm_force_off ();
  g_clear_object (&vm);
  g_clear_object (&store);
  g_free (pattern_slug);
  g_free (agent_slug);
  g_free (spice_path);
  g_free (serial_path);
  g_free (frames_dir);
  g_free (xdotool);

  return status;
}
