/* casement-display.c
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

#define G_LOG_DOMAIN "casement-display"

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <epoxy/gl.h>
#include <glib/gi18n.h>
#include <spice/vd_agent.h>

#include "casement-display.h"
#include "casement-keymap.h"
#include "casement-x11-presenter.h"

/* Software path: the frame is cut into tiles so that GTK's render-node
 * diffing only repaints (and re-uploads) the tiles the guest changed. */
#define TILE_SIZE 128

/* Wait for the window size to settle before asking the guest's agent to
 * change resolution: every request makes the guest re-mode its display. */
#define RESIZE_GUEST_DELAY_MS 500

#define GRAB_HINT_SECONDS 4

/* Scancodes go up to 0x1ff (E0 keys are 0x100 | code). */
#define N_SCANCODES 0x200

/* Held keys carry this bit when they are releases. */
#define KEY_EVENT_RELEASE 0x10000

/* The SPICE server reports the guest's lock state at the latest 2 s after
 * a change request (its KEY_MODIFIERS_TTL); past this (counted once the
 * inputs channel is open), a guest that never answers gets the held keys
 * anyway. */
#define LOCKS_SETTLE_TIMEOUT_MS 3000

/* The guest's 32-bit pixels as bytes in memory. Frames have their alpha
 * forced opaque, so premultiplied is the same and spares GTK a conversion
 * on every upload. */
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
# define FRAME_MEMORY_FORMAT  GDK_MEMORY_B8G8R8A8_PREMULTIPLIED
#else
# define FRAME_MEMORY_FORMAT  GDK_MEMORY_A8R8G8B8_PREMULTIPLIED
#endif

/* Cursors have real alpha, and spice-client-glib swaps their bytes into
 * R, G, B, A order (for GdkPixbuf) whatever the host's byte order. */
#define CURSOR_MEMORY_FORMAT GDK_MEMORY_R8G8B8A8

struct _CasementDisplay
{
  GtkWidget             parent_instance;

  /* Template widgets */
  GtkRevealer          *grab_hint;
  GtkLabel             *grab_hint_label;
  GtkOverlay           *overlay;
  GtkWidget            *reconnect_button;
  AdwStatusPage        *status_page;

  /* Owned references */
  SpiceSession         *session;
  SpiceMainChannel     *main_channel;
  SpiceDisplayChannel  *display_channel;
  SpiceInputsChannel   *inputs_channel;
  SpiceCursorChannel   *cursor_channel;
  GtkShortcutTrigger   *release_trigger;
  char                 *release_shortcut;
  char                 *unix_path;
  char                 *last_error;
  char                 *shared_folder;
  cairo_region_t       *dirty;
  GPtrArray            *tiles;            /* GskRenderNode, software path */
  GPtrArray            *tile_surfaces;    /* cairo_surface_t, cairo renderer */
  GCancellable         *clipboard_cancellable;
  CasementX11Presenter *presenter;        /* software path on X11, while realized */
  GArray               *held_keys;        /* guint scancode | KEY_EVENT_RELEASE */
  GdkContentProvider   *guest_contents[2]; /* the guest's text as last put in clipboards[] */

  /* Borrowed references */
  GtkGLArea            *gl_area;          /* child of overlay */
  GdkClipboard         *clipboards[2];    /* CLIPBOARD, PRIMARY */

  /* The primary surface; spice-client-glib owns the pixels. */
  guint8               *primary_data;
  int                   primary_width;
  int                   primary_height;
  int                   primary_stride;

  /* GL objects, valid while gl_area is realized */
  guint                 texture;
  guint                 program;
  guint                 vao;
  guint                 vbo;
  int                   texture_width;
  int                   texture_height;

  CasementDisplayState  state;
  CasementDisplayStats  stats;
  gint64                dirty_since_us;
  gint64                dirty_since_frame;  /* frame-clock counter then */
  guint                 resize_timeout_id;
  guint                 grab_hint_timeout_id;
  guint                 present_tick_id;
  guint                 locks_timeout_id;   /* a lock change is on its way */
  guint                 locks_requested;    /* SPICE_INPUTS_* last asked for */
  int                   requested_width;
  int                   requested_height;
  int                   allocated_width;
  int                   allocated_height;
  int                   button_mask;
  guint8                pressed_keys[N_SCANCODES / 8];

  guint                 scale : 1;
  guint                 resize_guest : 1;
  guint                 clipboard_sharing : 1;
  guint                 audio : 1;
  guint                 primary_marked : 1;
  guint                 use_gl : 1;
  guint                 cairo_tiles : 1;
  guint                 keyboard_grabbed : 1;
  guint                 grab_released : 1;
  guint                 agent_connected : 1;
  guint                 agent_clipboard : 1;       /* it announced CLIPBOARD_BY_DEMAND */
  guint                 guest_owns_clipboard : 2;  /* one bit per selection */
  guint                 host_owns_clipboard : 2;
  guint                 shared_folder_read_only : 1;
  guint                 covered : 1;
  guint                 inputs_open : 1;
};

G_DEFINE_FINAL_TYPE (CasementDisplay, casement_display, GTK_TYPE_WIDGET)

G_DEFINE_ENUM_TYPE (CasementDisplayState, casement_display_state,
  G_DEFINE_ENUM_VALUE (CASEMENT_DISPLAY_STATE_DISCONNECTED, "disconnected"),
  G_DEFINE_ENUM_VALUE (CASEMENT_DISPLAY_STATE_CONNECTING, "connecting"),
  G_DEFINE_ENUM_VALUE (CASEMENT_DISPLAY_STATE_WAITING, "waiting"),
  G_DEFINE_ENUM_VALUE (CASEMENT_DISPLAY_STATE_RUNNING, "running"))

G_DEFINE_QUARK (casement-display-error-quark, casement_display_error)

enum {
  PROP_0,
  PROP_AGENT_CONNECTED,
  PROP_AUDIO,
  PROP_CLIPBOARD_SHARING,
  PROP_KEYBOARD_GRABBED,
  PROP_RELEASE_SHORTCUT,
  PROP_RESIZE_GUEST,
  PROP_SCALE,
  PROP_STATE,
  PROP_UNIX_PATH,
  N_PROPS
};

enum {
  RECONNECT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void casement_display_close_session     (CasementDisplay *self);
static void casement_display_update_grab_hint  (CasementDisplay *self);
static void casement_display_schedule_resize   (CasementDisplay *self);
static gboolean casement_display_update_presenter (CasementDisplay *self);

/* --- state and overlays ------------------------------------------------ */

static void
casement_display_update_status (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  switch (self->state)
    {
    case CASEMENT_DISPLAY_STATE_DISCONNECTED:
      adw_status_page_set_icon_name (self->status_page, "network-offline-symbolic");
      adw_status_page_set_title (self->status_page, _("Disconnected"));
      adw_status_page_set_description (self->status_page,
                                       self->last_error != NULL
                                         ? self->last_error
                                         : _("The virtual machine’s display is closed. The virtual machine may have stopped."));
      break;

    case CASEMENT_DISPLAY_STATE_CONNECTING:
      adw_status_page_set_icon_name (self->status_page, "video-display-symbolic");
      adw_status_page_set_title (self->status_page, _("Connecting…"));
      adw_status_page_set_description (self->status_page, NULL);
      break;

    case CASEMENT_DISPLAY_STATE_WAITING:
      adw_status_page_set_icon_name (self->status_page, "video-display-symbolic");
      adw_status_page_set_title (self->status_page, _("Waiting for the Display"));
      adw_status_page_set_description (self->status_page,
                                       _("The virtual machine has not shown anything on its screen yet."));
      break;

    case CASEMENT_DISPLAY_STATE_RUNNING:
      break;

    default:
      g_assert_not_reached ();
    }

  gtk_widget_set_visible (GTK_WIDGET (self->status_page),
                          self->state != CASEMENT_DISPLAY_STATE_RUNNING);
  gtk_widget_set_visible (self->reconnect_button,
                          self->state == CASEMENT_DISPLAY_STATE_DISCONNECTED &&
                          self->unix_path != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "display.reconnect",
                                 self->state == CASEMENT_DISPLAY_STATE_DISCONNECTED &&
                                 self->unix_path != NULL);
}

static void
casement_display_set_state (CasementDisplay      *self,
                            CasementDisplayState  state)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->state == state)
    return;

  g_debug ("State %d → %d", self->state, state);
  self->state = state;
  casement_display_update_status (self);
  casement_display_update_presenter (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* Frames show only once the guest marked its surface as valid. */
static void
casement_display_update_running (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->state == CASEMENT_DISPLAY_STATE_DISCONNECTED ||
      self->state == CASEMENT_DISPLAY_STATE_CONNECTING)
    return;

  casement_display_set_state (self,
                              self->primary_data != NULL && self->primary_marked
                                ? CASEMENT_DISPLAY_STATE_RUNNING
                                : CASEMENT_DISPLAY_STATE_WAITING);
}

/* --- geometry ------------------------------------------------------------ */

/* Where the guest's frame lands, in device pixels of a @width × @height
 * (device pixels) area: scaled to fit and centred (letterboxed), or 1:1. */
static gboolean
casement_display_compute_viewport (CasementDisplay       *self,
                                   int                    width,
                                   int                    height,
                                   cairo_rectangle_int_t *viewport)
{
  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (viewport != NULL);

  if (self->primary_data == NULL || width <= 0 || height <= 0)
    return FALSE;

  if (self->scale)
    {
      double k = MIN ((double) width / self->primary_width,
                      (double) height / self->primary_height);

      viewport->width = MAX (1, (int) (self->primary_width * k + .5));
      viewport->height = MAX (1, (int) (self->primary_height * k + .5));
    }
  else
    {
      viewport->width = self->primary_width;
      viewport->height = self->primary_height;
    }

  viewport->x = MAX (0, (width - viewport->width) / 2);
  viewport->y = MAX (0, (height - viewport->height) / 2);

  return TRUE;
}

/* Widget coordinates → guest pixel, through the same letterbox transform
 * the frame is drawn with. Points on the bars clamp to the nearest edge. */
static gboolean
casement_display_widget_to_guest (CasementDisplay *self,
                                  double           x,
                                  double           y,
                                  int             *guest_x,
                                  int             *guest_y)
{
  cairo_rectangle_int_t viewport;
  int scale_factor;

  g_assert (CASEMENT_IS_DISPLAY (self));

  scale_factor = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  if (!casement_display_compute_viewport (self,
                                          gtk_widget_get_width (GTK_WIDGET (self)) * scale_factor,
                                          gtk_widget_get_height (GTK_WIDGET (self)) * scale_factor,
                                          &viewport))
    return FALSE;

  *guest_x = (int) ((x * scale_factor - viewport.x) * self->primary_width / viewport.width);
  *guest_y = (int) ((y * scale_factor - viewport.y) * self->primary_height / viewport.height);
  *guest_x = CLAMP (*guest_x, 0, self->primary_width - 1);
  *guest_y = CLAMP (*guest_y, 0, self->primary_height - 1);

  return TRUE;
}

/* --- frames -------------------------------------------------------------- */

/* When the oldest change not yet uploaded arrived, for the stats. */
static void
casement_display_note_dirty (CasementDisplay *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  self->dirty_since_us = g_get_monotonic_time ();
  self->dirty_since_frame = clock != NULL ? gdk_frame_clock_get_frame_counter (clock) : 0;
}

static void
casement_display_mark_all_dirty (CasementDisplay *self)
{
  cairo_rectangle_int_t all;

  g_assert (CASEMENT_IS_DISPLAY (self));

  g_clear_pointer (&self->dirty, cairo_region_destroy);
  all = (cairo_rectangle_int_t) { 0, 0, MAX (self->primary_width, 0), MAX (self->primary_height, 0) };
  self->dirty = cairo_region_create_rectangle (&all);
  casement_display_note_dirty (self);
}

static gboolean casement_display_present_tick (GtkWidget     *widget,
                                               GdkFrameClock *clock,
                                               gpointer       user_data);

static void
casement_display_queue_frame (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  /* Each ends in one upload per frame-clock tick however many rectangles
   * arrive in between. */
  if (self->presenter != NULL && casement_x11_presenter_is_shown (self->presenter))
    {
      if (self->present_tick_id == 0)
        self->present_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self),
                                                              casement_display_present_tick,
                                                              NULL, NULL);
    }
  else if (self->use_gl)
    gtk_gl_area_queue_render (self->gl_area);
  else
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Called once per rendered frame with the dirty area about to be uploaded. */
static void
casement_display_account_upload (CasementDisplay *self,
                                 guint64          pixels,
                                 gboolean         copied)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->dirty_since_us != 0)
    {
      gint64 delay = g_get_monotonic_time () - self->dirty_since_us;
      GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

      self->stats.max_upload_delay_us = MAX (self->stats.max_upload_delay_us, delay);
      /* The change came during frame N (or while the clock was idle after
       * it): it belongs on screen in frame N + 1. Counting ticks rather
       * than comparing the delay with the refresh interval keeps timer
       * jitter from counting as lateness. */
      if (clock != NULL && gdk_frame_clock_get_frame_counter (clock) > self->dirty_since_frame + 1)
        self->stats.late_frames++;
      self->dirty_since_us = 0;
    }

  if (pixels > 0)
    {
      self->stats.frames++;
      self->stats.uploaded_pixels += pixels;
      if (copied)
        self->stats.copied_pixels += pixels;
    }
}

/* Software path, GL renderer: a tile is a texture holding a copy of part
 * of the frame, its unused alpha byte forced opaque (the guest leaves it
 * undefined, often 0). GTK uploads it to the GPU as is. */
static GskRenderNode *
casement_display_make_texture_tile (CasementDisplay             *self,
                                    const cairo_rectangle_int_t *rect)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint32 *pixels;
  gsize stride = (gsize) rect->width * 4;

  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (self->primary_data != NULL);

  pixels = g_malloc (stride * rect->height);

  for (int y = 0; y < rect->height; y++)
    {
      const guint32 *src = (const guint32 *) (self->primary_data +
                                              (gsize) (rect->y + y) * self->primary_stride +
                                              (gsize) rect->x * 4);
      guint32 *dst = pixels + (gsize) y * rect->width;

      for (int x = 0; x < rect->width; x++)
        dst[x] = src[x] | 0xff000000;
    }

  bytes = g_bytes_new_take (pixels, stride * rect->height);
  texture = gdk_memory_texture_new (rect->width, rect->height, FRAME_MEMORY_FORMAT, bytes, stride);

  return gsk_texture_node_new (texture, &GRAPHENE_RECT_INIT (rect->x, rect->y, rect->width, rect->height));
}

/* Software path, cairo renderer: GTK 4.8 draws a memory texture by
 * converting every pixel through floats, far slower than the frame rate
 * allows. A cairo node painting an image surface that wraps the frame
 * itself (RGB24 ignores the alpha byte) costs no copy at all: the node's
 * recording holds a copy-on-write snapshot of the surface, which keeps
 * reading the live pixels until the surface is finished (see
 * casement_display_drop_tiles()), and it only paints when it is new. */
static GskRenderNode *
casement_display_make_cairo_tile (CasementDisplay             *self,
                                  guint                        index,
                                  const cairo_rectangle_int_t *rect)
{
  cairo_surface_t **surface;
  GskRenderNode *node;
  cairo_t *cr;

  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (self->primary_data != NULL);
  g_assert (index < self->tile_surfaces->len);

  surface = (cairo_surface_t **) &g_ptr_array_index (self->tile_surfaces, index);
  if (*surface == NULL)
    *surface = cairo_image_surface_create_for_data (self->primary_data +
                                                    (gsize) rect->y * self->primary_stride +
                                                    (gsize) rect->x * 4,
                                                    CAIRO_FORMAT_RGB24,
                                                    rect->width, rect->height,
                                                    self->primary_stride);

  node = gsk_cairo_node_new (&GRAPHENE_RECT_INIT (rect->x, rect->y, rect->width, rect->height));
  cr = gsk_cairo_node_get_draw_context (node);
  cairo_set_source_surface (cr, *surface, rect->x, rect->y);
  cairo_paint (cr);
  cairo_destroy (cr);

  return node;
}

/* Before the frame's memory goes away: finishing the surfaces makes cairo
 * copy what the nodes GTK still holds show. */
static void
casement_display_drop_tiles (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->tile_surfaces != NULL)
    {
      for (guint i = 0; i < self->tile_surfaces->len; i++)
        {
          cairo_surface_t *surface = g_ptr_array_index (self->tile_surfaces, i);

          if (surface != NULL)
            cairo_surface_finish (surface);
        }
    }

  g_clear_pointer (&self->tile_surfaces, g_ptr_array_unref);
  g_clear_pointer (&self->tiles, g_ptr_array_unref);
}

/* Remakes the nodes of the tiles the guest changed. Unchanged tiles keep
 * their node, and GTK's diff of identical nodes finds no damage there, so
 * only changed tiles are uploaded and repainted. */
static void
casement_display_update_tiles (CasementDisplay *self,
                               gboolean         cairo_tiles)
{
  int columns, rows;
  guint64 uploaded = 0;

  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (self->primary_data != NULL);

  columns = (self->primary_width + TILE_SIZE - 1) / TILE_SIZE;
  rows = (self->primary_height + TILE_SIZE - 1) / TILE_SIZE;

  if (self->tiles == NULL ||
      self->tiles->len != (guint) (columns * rows) ||
      self->cairo_tiles != cairo_tiles)
    {
      casement_display_drop_tiles (self);
      self->tiles = g_ptr_array_new_full (columns * rows, (GDestroyNotify) gsk_render_node_unref);
      g_ptr_array_set_size (self->tiles, columns * rows);
      if (cairo_tiles)
        {
          self->tile_surfaces = g_ptr_array_new_full (columns * rows, (GDestroyNotify) cairo_surface_destroy);
          g_ptr_array_set_size (self->tile_surfaces, columns * rows);
        }
      self->cairo_tiles = cairo_tiles;
      casement_display_mark_all_dirty (self);
    }

  if (self->dirty == NULL)
    return;

  for (int row = 0; row < rows; row++)
    {
      for (int column = 0; column < columns; column++)
        {
          cairo_rectangle_int_t rect;
          GskRenderNode **tile = (GskRenderNode **) &g_ptr_array_index (self->tiles, row * columns + column);

          rect.x = column * TILE_SIZE;
          rect.y = row * TILE_SIZE;
          rect.width = MIN (TILE_SIZE, self->primary_width - rect.x);
          rect.height = MIN (TILE_SIZE, self->primary_height - rect.y);

          if (*tile != NULL &&
              cairo_region_contains_rectangle (self->dirty, &rect) == CAIRO_REGION_OVERLAP_OUT)
            continue;

          g_clear_pointer (tile, gsk_render_node_unref);
          *tile = cairo_tiles
                    ? casement_display_make_cairo_tile (self, row * columns + column, &rect)
                    : casement_display_make_texture_tile (self, &rect);
          uploaded += (guint64) rect.width * rect.height;
        }
    }

  g_clear_pointer (&self->dirty, cairo_region_destroy);
  casement_display_account_upload (self, uploaded, TRUE);
}

static gboolean
casement_display_renderer_is_cairo (CasementDisplay *self)
{
  GtkNative *native;

  g_assert (CASEMENT_IS_DISPLAY (self));

  return (native = gtk_widget_get_native (GTK_WIDGET (self))) != NULL &&
         GSK_IS_CAIRO_RENDERER (gtk_native_get_renderer (native));
}

/* --- X11 path ------------------------------------------------------------ */

/* Whether the frame can go straight to the X server (see
 * casement-x11-presenter.c for why): it is shown 1:1 in fit mode, so
 * nothing scales, scrolls or clips it, and nothing of ours is drawn over
 * it. @area gets the frame's place in the window, in device pixels. */
static gboolean
casement_display_can_present (CasementDisplay       *self,
                              cairo_rectangle_int_t *area)
{
  GtkWidget *widget = GTK_WIDGET (self);
  cairo_rectangle_int_t viewport;
  graphene_point_t origin;
  GtkNative *native;
  double surface_x, surface_y;
  int scale_factor;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->presenter == NULL || self->use_gl || self->covered || !self->scale ||
      self->state != CASEMENT_DISPLAY_STATE_RUNNING ||
      !gtk_widget_get_mapped (widget) ||
      gtk_revealer_get_reveal_child (self->grab_hint) ||
      gtk_revealer_get_child_revealed (self->grab_hint))
    return FALSE;

  scale_factor = gtk_widget_get_scale_factor (widget);
  if (!casement_display_compute_viewport (self,
                                          gtk_widget_get_width (widget) * scale_factor,
                                          gtk_widget_get_height (widget) * scale_factor,
                                          &viewport) ||
      viewport.width != self->primary_width ||
      viewport.height != self->primary_height)
    return FALSE;

  native = gtk_widget_get_native (widget);
  if (!gtk_widget_compute_point (widget, GTK_WIDGET (native), &GRAPHENE_POINT_INIT (0, 0), &origin))
    return FALSE;
  gtk_native_get_surface_transform (native, &surface_x, &surface_y);

  area->x = (int) ((origin.x + surface_x) * scale_factor + .5) + viewport.x;
  area->y = (int) ((origin.y + surface_y) * scale_factor + .5) + viewport.y;
  area->width = viewport.width;
  area->height = viewport.height;

  return TRUE;
}

/* Hands the frame to the presenter, or takes it back, as things change.
 * Returns TRUE when GTK must draw the widget again. */
static gboolean
casement_display_update_presenter (CasementDisplay *self)
{
  cairo_rectangle_int_t area;
  gboolean was_shown, shown;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->presenter == NULL)
    return FALSE;

  was_shown = casement_x11_presenter_is_shown (self->presenter);
  if (casement_display_can_present (self, &area))
    casement_x11_presenter_show (self->presenter, &area, self->primary_data,
                                 self->primary_width, self->primary_height, self->primary_stride);
  else
    casement_x11_presenter_hide (self->presenter);

  shown = casement_x11_presenter_is_shown (self->presenter);
  if (shown == was_shown)
    return FALSE;

  g_debug ("Frames go %s", shown ? "straight to the X server" : "through GTK");

  /* GTK's copy of the frame is not needed while the presenter shows it,
   * and stale when it takes it back. */
  casement_display_drop_tiles (self);
  if (shown)
    {
      casement_display_account_upload (self, (guint64) self->primary_width * self->primary_height,
                                       casement_x11_presenter_copies_frame (self->presenter));
      g_clear_pointer (&self->dirty, cairo_region_destroy);
    }
  else
    casement_display_mark_all_dirty (self);

  return TRUE;
}

static void
casement_display_sync_presenter (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (casement_display_update_presenter (self))
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
casement_display_grab_hint_changed (CasementDisplay *self)
{
  casement_display_sync_presenter (self);
}

static gboolean
casement_display_present_tick (GtkWidget     *widget,
                               GdkFrameClock *clock,
                               gpointer       user_data)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);

  self->present_tick_id = 0;
  casement_display_sync_presenter (self);

  if (self->dirty != NULL && casement_x11_presenter_is_shown (self->presenter))
    {
      casement_display_account_upload (self,
                                       casement_x11_presenter_update (self->presenter,
                                                                      self->primary_data,
                                                                      self->primary_stride,
                                                                      self->dirty),
                                       casement_x11_presenter_copies_frame (self->presenter));
      g_clear_pointer (&self->dirty, cairo_region_destroy);
    }
  else if (self->dirty != NULL)
    casement_display_queue_frame (self);

  return G_SOURCE_REMOVE;
}

static void
casement_display_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!self->use_gl)
    {
      cairo_rectangle_int_t viewport;
      int scale_factor = gtk_widget_get_scale_factor (widget);

      gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 1 },
                                 &GRAPHENE_RECT_INIT (0, 0, width, height));

      /* The widget moving in its window shows up here first. */
      casement_display_update_presenter (self);

      if (self->state == CASEMENT_DISPLAY_STATE_RUNNING &&
          (self->presenter == NULL || !casement_x11_presenter_is_shown (self->presenter)) &&
          casement_display_compute_viewport (self, width * scale_factor, height * scale_factor, &viewport))
        {
          casement_display_update_tiles (self, casement_display_renderer_is_cairo (self));

          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot,
                                  &GRAPHENE_POINT_INIT ((float) viewport.x / scale_factor,
                                                        (float) viewport.y / scale_factor));
          gtk_snapshot_scale (snapshot,
                              (float) viewport.width / (scale_factor * self->primary_width),
                              (float) viewport.height / (scale_factor * self->primary_height));
          for (guint i = 0; i < self->tiles->len; i++)
            gtk_snapshot_append_node (snapshot, g_ptr_array_index (self->tiles, i));
          gtk_snapshot_restore (snapshot);
        }
    }

  gtk_widget_snapshot_child (widget, GTK_WIDGET (self->overlay), snapshot);
}

/* --- GL path ------------------------------------------------------------- */

static const char vertex_shader_gl[] =
  "#version 150\n"
  "in vec2 position;\n"
  "out vec2 uv;\n"
  "void main () {\n"
  "  uv = vec2 ((position.x + 1.0) / 2.0, (1.0 - position.y) / 2.0);\n"
  "  gl_Position = vec4 (position, 0.0, 1.0);\n"
  "}\n";

/* The texture holds BGRA uploaded as BGRA: the swizzle is the driver's. */
static const char fragment_shader_gl[] =
  "#version 150\n"
  "in vec2 uv;\n"
  "out vec4 color;\n"
  "uniform sampler2D frame;\n"
  "void main () {\n"
  "  color = vec4 (texture (frame, uv).rgb, 1.0);\n"
  "}\n";

static const char vertex_shader_gles[] =
  "#version 300 es\n"
  "in vec2 position;\n"
  "out vec2 uv;\n"
  "void main () {\n"
  "  uv = vec2 ((position.x + 1.0) / 2.0, (1.0 - position.y) / 2.0);\n"
  "  gl_Position = vec4 (position, 0.0, 1.0);\n"
  "}\n";

/* GLES has no GL_BGRA upload: the bytes land as RGBA and get swapped here. */
static const char fragment_shader_gles[] =
  "#version 300 es\n"
  "precision mediump float;\n"
  "in vec2 uv;\n"
  "out vec4 color;\n"
  "uniform sampler2D frame;\n"
  "void main () {\n"
  "  color = vec4 (texture (frame, uv).bgr, 1.0);\n"
  "}\n";

static guint
casement_display_compile_shader (GLenum       type,
                                 const char  *source,
                                 GError     **error)
{
  guint shader = glCreateShader (type);
  int status = 0;

  glShaderSource (shader, 1, &source, NULL);
  glCompileShader (shader);
  glGetShaderiv (shader, GL_COMPILE_STATUS, &status);

  if (!status)
    {
      char log[1024] = "";

      glGetShaderInfoLog (shader, sizeof log, NULL, log);
      g_set_error (error, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_GL,
                   "Cannot compile the display shader: %s", log);
      glDeleteShader (shader);
      return 0;
    }

  return shader;
}

static gboolean
casement_display_gl_init (CasementDisplay  *self,
                          gboolean          use_es,
                          GError          **error)
{
  static const float quad[] = { -1, -1, 1, -1, -1, 1, 1, 1 };
  guint vertex, fragment;
  int status = 0;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!(vertex = casement_display_compile_shader (GL_VERTEX_SHADER,
                                                  use_es ? vertex_shader_gles : vertex_shader_gl,
                                                  error)))
    return FALSE;

  if (!(fragment = casement_display_compile_shader (GL_FRAGMENT_SHADER,
                                                    use_es ? fragment_shader_gles : fragment_shader_gl,
                                                    error)))
    {
      glDeleteShader (vertex);
      return FALSE;
    }

  self->program = glCreateProgram ();
  glAttachShader (self->program, vertex);
  glAttachShader (self->program, fragment);
  glBindAttribLocation (self->program, 0, "position");
  glLinkProgram (self->program);
  glDeleteShader (vertex);
  glDeleteShader (fragment);
  glGetProgramiv (self->program, GL_LINK_STATUS, &status);

  if (!status)
    {
      char log[1024] = "";

      glGetProgramInfoLog (self->program, sizeof log, NULL, log);
      g_set_error (error, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_GL,
                   "Cannot link the display shader: %s", log);
      return FALSE;
    }

  glGenVertexArrays (1, &self->vao);
  glBindVertexArray (self->vao);
  glGenBuffers (1, &self->vbo);
  glBindBuffer (GL_ARRAY_BUFFER, self->vbo);
  glBufferData (GL_ARRAY_BUFFER, sizeof quad, quad, GL_STATIC_DRAW);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 2, GL_FLOAT, GL_FALSE, 0, NULL);
  glBindVertexArray (0);

  glGenTextures (1, &self->texture);
  self->texture_width = 0;
  self->texture_height = 0;

  return TRUE;
}

static void
casement_display_gl_area_realize (GtkGLArea       *area,
                                  CasementDisplay *self)
{
  g_autoptr(GError) error = NULL;

  g_assert (GTK_IS_GL_AREA (area));
  g_assert (CASEMENT_IS_DISPLAY (self));

  gtk_gl_area_make_current (area);

  if (gtk_gl_area_get_error (area) == NULL &&
      !casement_display_gl_init (self, gdk_gl_context_get_use_es (gtk_gl_area_get_context (area)), &error))
    gtk_gl_area_set_error (area, error);

  if (gtk_gl_area_get_error (area) != NULL)
    {
      /* Drawing software frames is slower but always works. */
      g_debug ("No GL for the display, using the software path: %s",
               gtk_gl_area_get_error (area)->message);
      self->use_gl = FALSE;
      gtk_widget_set_visible (GTK_WIDGET (area), FALSE);
      casement_display_drop_tiles (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }

  casement_display_mark_all_dirty (self);
}

static void
casement_display_gl_area_unrealize (GtkGLArea       *area,
                                    CasementDisplay *self)
{
  g_assert (GTK_IS_GL_AREA (area));
  g_assert (CASEMENT_IS_DISPLAY (self));

  gtk_gl_area_make_current (area);
  if (gtk_gl_area_get_error (area) != NULL)
    return;

  if (self->texture != 0)
    glDeleteTextures (1, &self->texture);
  if (self->vbo != 0)
    glDeleteBuffers (1, &self->vbo);
  if (self->vao != 0)
    glDeleteVertexArrays (1, &self->vao);
  if (self->program != 0)
    glDeleteProgram (self->program);

  self->texture = self->vbo = self->vao = self->program = 0;
  self->texture_width = self->texture_height = 0;
}

static guint64
casement_display_gl_upload (CasementDisplay *self,
                            gboolean         use_es)
{
  GLenum format = use_es ? GL_RGBA : GL_BGRA;
  guint64 uploaded = 0;
  int n_rects;

  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (self->primary_data != NULL);

  glBindTexture (GL_TEXTURE_2D, self->texture);

  if (self->texture_width != self->primary_width ||
      self->texture_height != self->primary_height)
    {
      glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
      glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
      glTexImage2D (GL_TEXTURE_2D, 0, GL_RGBA8, self->primary_width, self->primary_height,
                    0, format, GL_UNSIGNED_BYTE, NULL);
      self->texture_width = self->primary_width;
      self->texture_height = self->primary_height;
      casement_display_mark_all_dirty (self);
    }

  if (self->dirty == NULL)
    return 0;

  glPixelStorei (GL_UNPACK_ALIGNMENT, 4);
  glPixelStorei (GL_UNPACK_ROW_LENGTH, self->primary_stride / 4);

  n_rects = cairo_region_num_rectangles (self->dirty);
  for (int i = 0; i < n_rects; i++)
    {
      cairo_rectangle_int_t rect;

      cairo_region_get_rectangle (self->dirty, i, &rect);
      glTexSubImage2D (GL_TEXTURE_2D, 0, rect.x, rect.y, rect.width, rect.height,
                       format, GL_UNSIGNED_BYTE,
                       self->primary_data + (gsize) rect.y * self->primary_stride + (gsize) rect.x * 4);
      uploaded += (guint64) rect.width * rect.height;
    }

  glPixelStorei (GL_UNPACK_ROW_LENGTH, 0);
  g_clear_pointer (&self->dirty, cairo_region_destroy);

  return uploaded;
}

static gboolean
casement_display_gl_area_render (GtkGLArea       *area,
                                 GdkGLContext    *context,
                                 CasementDisplay *self)
{
  cairo_rectangle_int_t viewport;
  int scale_factor, width, height;
  gboolean use_es;
  guint64 uploaded;

  g_assert (GTK_IS_GL_AREA (area));
  g_assert (CASEMENT_IS_DISPLAY (self));

  glClearColor (0, 0, 0, 1);
  glClear (GL_COLOR_BUFFER_BIT);

  if (self->state != CASEMENT_DISPLAY_STATE_RUNNING || self->program == 0)
    return TRUE;

  scale_factor = gtk_widget_get_scale_factor (GTK_WIDGET (area));
  width = gtk_widget_get_width (GTK_WIDGET (area)) * scale_factor;
  height = gtk_widget_get_height (GTK_WIDGET (area)) * scale_factor;
  if (!casement_display_compute_viewport (self, width, height, &viewport))
    return TRUE;

  use_es = gdk_gl_context_get_use_es (context);
  uploaded = casement_display_gl_upload (self, use_es);
  casement_display_account_upload (self, uploaded, TRUE);

  /* Exact pixels at 1:1, smooth scaling otherwise. */
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER,
                   viewport.width == self->primary_width ? GL_NEAREST : GL_LINEAR);
  glTexParameteri (GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER,
                   viewport.width == self->primary_width ? GL_NEAREST : GL_LINEAR);

  /* GL's origin is the bottom left corner. */
  glViewport (viewport.x, height - viewport.y - viewport.height, viewport.width, viewport.height);
  glUseProgram (self->program);
  glActiveTexture (GL_TEXTURE0);
  glUniform1i (glGetUniformLocation (self->program, "frame"), 0);
  glBindVertexArray (self->vao);
  glDrawArrays (GL_TRIANGLE_STRIP, 0, 4);
  glBindVertexArray (0);
  glUseProgram (0);
  glViewport (0, 0, width, height);

  return TRUE;
}

/* --- display channel ----------------------------------------------------- */

static void
casement_display_primary_create (SpiceChannel    *channel,
                                 int              format,
                                 int              width,
                                 int              height,
                                 int              stride,
                                 int              shmid,
                                 gpointer         data,
                                 CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (format != SPICE_SURFACE_FMT_32_xRGB && format != SPICE_SURFACE_FMT_32_ARGB)
    {
      g_warning ("The guest's display uses surface format %d, which Casement cannot show", format);
      return;
    }

  g_debug ("Primary surface %d×%d, stride %d", width, height, stride);

  self->primary_data = data;
  self->primary_width = width;
  self->primary_height = height;
  self->primary_stride = stride;
  casement_display_drop_tiles (self);
  casement_display_mark_all_dirty (self);

  casement_display_update_running (self);
  casement_display_queue_frame (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static void
casement_display_primary_destroy (SpiceChannel    *channel,
                                  CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  g_debug ("Primary surface destroyed");

  /* spice-client-glib frees the frame when this returns. */
  if (self->presenter != NULL)
    casement_x11_presenter_release_frame (self->presenter);
  self->primary_data = NULL;
  self->primary_width = self->primary_height = self->primary_stride = 0;
  g_clear_pointer (&self->dirty, cairo_region_destroy);
  casement_display_drop_tiles (self);
  casement_display_update_running (self);
}

static void
casement_display_invalidate (SpiceChannel    *channel,
                             int              x,
                             int              y,
                             int              width,
                             int              height,
                             CasementDisplay *self)
{
  cairo_rectangle_int_t rect = { x, y, width, height };
  cairo_rectangle_int_t bounds;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->primary_data == NULL)
    return;

  bounds = (cairo_rectangle_int_t) { 0, 0, self->primary_width, self->primary_height };
  gdk_rectangle_intersect (&rect, &bounds, &rect);
  if (rect.width <= 0 || rect.height <= 0)
    return;

  self->stats.invalidated_pixels += (guint64) rect.width * rect.height;

  if (self->dirty == NULL)
    {
      self->dirty = cairo_region_create_rectangle (&rect);
      casement_display_note_dirty (self);
    }
  else
    cairo_region_union_rectangle (self->dirty, &rect);

  if (self->state == CASEMENT_DISPLAY_STATE_RUNNING)
    casement_display_queue_frame (self);
}

static void
casement_display_mark (SpiceChannel    *channel,
                       gboolean         mark,
                       CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  g_debug ("Display mark %d", mark);

  self->primary_marked = !!mark;
  if (mark)
    casement_display_mark_all_dirty (self);
  casement_display_update_running (self);
  casement_display_queue_frame (self);
}

/* --- keyboard ------------------------------------------------------------ */

static gboolean
casement_display_key_is_pressed (CasementDisplay *self,
                                 guint            scancode)
{
  return (self->pressed_keys[scancode / 8] & (1 << (scancode % 8))) != 0;
}

static void
casement_display_set_key_pressed (CasementDisplay *self,
                                  guint            scancode,
                                  gboolean         pressed)
{
  if (pressed)
    self->pressed_keys[scancode / 8] |= 1 << (scancode % 8);
  else
    self->pressed_keys[scancode / 8] &= ~(1 << (scancode % 8));
}

static void
casement_display_send_key (CasementDisplay *self,
                           guint            scancode,
                           gboolean         pressed)
{
  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (self->inputs_channel != NULL);

  if (pressed)
    spice_inputs_channel_key_press (self->inputs_channel, scancode);
  else
    spice_inputs_channel_key_release (self->inputs_channel, scancode);
}

/* Sends the keys typed while the guest took on a new lock state, in the
 * order they were typed. */
static void
casement_display_flush_held_keys (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  g_clear_handle_id (&self->locks_timeout_id, g_source_remove);

  if (self->held_keys->len > 0)
    g_debug ("Sending %u held key events", self->held_keys->len);

  for (guint i = 0; i < self->held_keys->len && self->inputs_channel != NULL; i++)
    {
      guint event = g_array_index (self->held_keys, guint, i);

      casement_display_send_key (self, event & ~KEY_EVENT_RELEASE, !(event & KEY_EVENT_RELEASE));
    }

  g_array_set_size (self->held_keys, 0);
}

/* QEMU makes a lock change a Caps/Num/Scroll Lock press in the guest's
 * keyboard, which the guest answers by setting its LEDs. Keys typed while
 * a change is on its way wait until the guest reports the new state. The
 * first change goes with the inputs channel's opening, which comes after
 * the first frame: spice-client-glib drops keys sent before it. */
static void
casement_display_key_event (CasementDisplay *self,
                            guint            scancode,
                            gboolean         pressed)
{
  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (scancode > 0 && scancode < N_SCANCODES);

  casement_display_set_key_pressed (self, scancode, pressed);

  if (self->locks_timeout_id != 0)
    {
      guint event = scancode | (pressed ? 0 : KEY_EVENT_RELEASE);

      g_debug ("Key 0x%x %s held until the guest has lock state 0x%x",
               scancode, pressed ? "down" : "up", self->locks_requested);
      g_array_append_val (self->held_keys, event);
      return;
    }

  g_debug ("Key 0x%x %s", scancode, pressed ? "down" : "up");
  casement_display_send_key (self, scancode, pressed);
}

/* A key held while focus moves away would stay down in the guest forever
 * (its release goes to another window), so release everything we pressed. */
static void
casement_display_release_keys (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  /* What was typed goes first, so that its presses and releases pair up. */
  casement_display_flush_held_keys (self);

  for (guint scancode = 0; scancode < N_SCANCODES; scancode++)
    {
      if (!casement_display_key_is_pressed (self, scancode))
        continue;

      casement_display_set_key_pressed (self, scancode, FALSE);
      if (self->inputs_channel != NULL)
        {
          g_debug ("Releasing held key 0x%x", scancode);
          spice_inputs_channel_key_release (self->inputs_channel, scancode);
        }
    }
}

static gboolean
casement_display_locks_timeout (gpointer user_data)
{
  CasementDisplay *self = user_data;

  g_assert (CASEMENT_IS_DISPLAY (self));

  /* Keys sent before the channel is open are dropped on the floor. */
  if (!self->inputs_open)
    return G_SOURCE_CONTINUE;

  self->locks_timeout_id = 0;
  g_debug ("The guest did not report lock state 0x%x in time", self->locks_requested);
  casement_display_flush_held_keys (self);

  return G_SOURCE_REMOVE;
}

static guint
casement_display_get_host_locks (CasementDisplay *self)
{
  GdkDevice *keyboard;
  guint locks = 0;

  g_assert (CASEMENT_IS_DISPLAY (self));

  keyboard = gdk_seat_get_keyboard (gdk_display_get_default_seat (gtk_widget_get_display (GTK_WIDGET (self))));
  if (keyboard == NULL)
    return 0;

  if (gdk_device_get_caps_lock_state (keyboard))
    locks |= SPICE_INPUTS_CAPS_LOCK;
  if (gdk_device_get_num_lock_state (keyboard))
    locks |= SPICE_INPUTS_NUM_LOCK;
  if (gdk_device_get_scroll_lock_state (keyboard))
    locks |= SPICE_INPUTS_SCROLL_LOCK;

  return locks;
}

/* The server turns the request into lock key presses for the locks that
 * differ from what it believes the guest has; key events wait until the
 * guest reports the new state. */
static void
casement_display_request_locks (CasementDisplay *self,
                                guint            locks)
{
  g_assert (CASEMENT_IS_DISPLAY (self));
  g_assert (self->inputs_channel != NULL);

  g_debug ("Asking the guest for lock state 0x%x", locks);
  spice_inputs_channel_set_key_locks (self->inputs_channel, locks);
  self->locks_requested = locks;
  g_clear_handle_id (&self->locks_timeout_id, g_source_remove);
  self->locks_timeout_id = g_timeout_add (LOCKS_SETTLE_TIMEOUT_MS, casement_display_locks_timeout, self);
}

static void
casement_display_sync_key_locks (CasementDisplay *self)
{
  guint locks;
  int guest_locks = 0;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->inputs_channel == NULL)
    return;

  locks = casement_display_get_host_locks (self);

  /* While a change is on its way the guest's last report is stale: asking
   * again against it has the server press a lock key a second time
   * whenever a guest LED report from before the change came in between,
   * which leaves that lock the other way round from the host's. */
  if (self->locks_timeout_id != 0)
    guest_locks = self->locks_requested;
  else
    g_object_get (self->inputs_channel, "key-modifiers", &guest_locks, NULL);

  if (locks != (guint) guest_locks)
    casement_display_request_locks (self, locks);
}

static void
casement_display_inputs_event (SpiceChannel      *channel,
                               SpiceChannelEvent  event,
                               CasementDisplay   *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  self->inputs_open = event == SPICE_CHANNEL_OPENED;
}

/* The server reports the guest's lock state when the channel opens (as it
 * was before our request), each time the guest sets its keyboard LEDs,
 * and 2 s after a request. */
static void
casement_display_inputs_modifiers (SpiceInputsChannel *channel,
                                   CasementDisplay    *self)
{
  int guest_locks = 0;

  g_assert (CASEMENT_IS_DISPLAY (self));

  g_object_get (channel, "key-modifiers", &guest_locks, NULL);
  g_debug ("The guest reports lock state 0x%x", guest_locks);

  /* A report of a part-way state (one of two locks toggled) keeps the
   * keys waiting. */
  if (self->locks_timeout_id != 0 && (guint) guest_locks == self->locks_requested)
    casement_display_flush_held_keys (self);
}

static void
casement_display_grab_keyboard (CasementDisplay *self,
                                GdkEvent        *event)
{
  GtkNative *native;
  GdkSurface *surface;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->keyboard_grabbed || self->state != CASEMENT_DISPLAY_STATE_RUNNING)
    return;

  if (!(native = gtk_widget_get_native (GTK_WIDGET (self))) ||
      !(surface = gtk_native_get_surface (native)) ||
      !GDK_IS_TOPLEVEL (surface))
    return;

  /* Lets Alt+Tab, Super and friends reach the guest instead of the desktop. */
  gdk_toplevel_inhibit_system_shortcuts (GDK_TOPLEVEL (surface), event);
  self->keyboard_grabbed = TRUE;
  casement_display_update_grab_hint (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEYBOARD_GRABBED]);
}

static void
casement_display_ungrab_keyboard (CasementDisplay *self)
{
  GtkNative *native;
  GdkSurface *surface;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!self->keyboard_grabbed)
    return;

  if ((native = gtk_widget_get_native (GTK_WIDGET (self))) &&
      (surface = gtk_native_get_surface (native)) &&
      GDK_IS_TOPLEVEL (surface))
    gdk_toplevel_restore_system_shortcuts (GDK_TOPLEVEL (surface));

  self->keyboard_grabbed = FALSE;
  casement_display_update_grab_hint (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEYBOARD_GRABBED]);
}

static gboolean
casement_display_hide_grab_hint (gpointer user_data)
{
  CasementDisplay *self = user_data;

  g_assert (CASEMENT_IS_DISPLAY (self));

  self->grab_hint_timeout_id = 0;
  gtk_revealer_set_reveal_child (self->grab_hint, FALSE);

  return G_SOURCE_REMOVE;
}

static void
casement_display_update_grab_hint (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  g_clear_handle_id (&self->grab_hint_timeout_id, g_source_remove);

  if (self->keyboard_grabbed && self->release_trigger != NULL)
    {
      g_autofree char *label = gtk_shortcut_trigger_to_label (self->release_trigger,
                                                               gtk_widget_get_display (GTK_WIDGET (self)));
      g_autofree char *text = g_strdup_printf (_("Press %s to release the keyboard"), label);

      gtk_label_set_text (self->grab_hint_label, text);
      gtk_revealer_set_reveal_child (self->grab_hint, TRUE);
      self->grab_hint_timeout_id = g_timeout_add_seconds (GRAB_HINT_SECONDS,
                                                          casement_display_hide_grab_hint,
                                                          self);
    }
  else
    gtk_revealer_set_reveal_child (self->grab_hint, FALSE);
}

static gboolean
casement_display_key_pressed (GtkEventControllerKey *controller,
                              guint                  keyval,
                              guint                  keycode,
                              GdkModifierType        state,
                              CasementDisplay       *self)
{
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  guint scancode;

  g_assert (CASEMENT_IS_DISPLAY (self));

  /* Also while the guest is between two screens (a mode change): the
   * keyboard still reaches it. */
  if (self->inputs_channel == NULL ||
      (self->state != CASEMENT_DISPLAY_STATE_RUNNING && self->state != CASEMENT_DISPLAY_STATE_WAITING))
    return FALSE;

  if (self->keyboard_grabbed && self->release_trigger != NULL && event != NULL &&
      gtk_shortcut_trigger_trigger (self->release_trigger, event, FALSE) == GDK_KEY_MATCH_EXACT)
    {
      casement_display_release_keyboard (self);
      return TRUE;
    }

  scancode = casement_keymap_keycode_to_xt (keycode);
  if (scancode == 0)
    {
      g_debug ("No scancode for hardware keycode %u (keyval %s)", keycode, gdk_keyval_name (keyval));
      return TRUE;
    }

  casement_display_key_event (self, scancode, TRUE);

  return TRUE;
}

static void
casement_display_key_released (GtkEventControllerKey *controller,
                               guint                  keyval,
                               guint                  keycode,
                               GdkModifierType        state,
                               CasementDisplay       *self)
{
  guint scancode;

  g_assert (CASEMENT_IS_DISPLAY (self));

  scancode = casement_keymap_keycode_to_xt (keycode);
  if (scancode == 0 || !casement_display_key_is_pressed (self, scancode) || self->inputs_channel == NULL)
    return;

  casement_display_key_event (self, scancode, FALSE);
}

static void
casement_display_focus_enter (GtkEventControllerFocus *controller,
                              CasementDisplay         *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  casement_display_sync_key_locks (self);
}

static void
casement_display_focus_leave (GtkEventControllerFocus *controller,
                              CasementDisplay         *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  casement_display_release_keys (self);
  casement_display_ungrab_keyboard (self);
}

/* --- pointer ------------------------------------------------------------- */

static void
casement_display_send_position (CasementDisplay *self,
                                double           x,
                                double           y)
{
  int guest_x, guest_y;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->inputs_channel == NULL || self->state != CASEMENT_DISPLAY_STATE_RUNNING)
    return;

  if (casement_display_widget_to_guest (self, x, y, &guest_x, &guest_y))
    spice_inputs_channel_position (self->inputs_channel, guest_x, guest_y, 0, self->button_mask);
}

static void
casement_display_motion (GtkEventControllerMotion *controller,
                         double                    x,
                         double                    y,
                         CasementDisplay          *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  casement_display_send_position (self, x, y);
}

static void
casement_display_pointer_enter (GtkEventControllerMotion *controller,
                                double                    x,
                                double                    y,
                                CasementDisplay          *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  casement_display_send_position (self, x, y);

  if (gtk_widget_has_focus (GTK_WIDGET (self)) && !self->grab_released)
    casement_display_grab_keyboard (self, gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller)));
}

static void
casement_display_pointer_leave (GtkEventControllerMotion *controller,
                                CasementDisplay          *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  casement_display_ungrab_keyboard (self);
}

static gboolean
casement_display_map_button (guint  gdk_button,
                             int   *button,
                             int   *mask)
{
  switch (gdk_button)
    {
    case GDK_BUTTON_PRIMARY:
      *button = SPICE_MOUSE_BUTTON_LEFT;
      *mask = SPICE_MOUSE_BUTTON_MASK_LEFT;
      return TRUE;

    case GDK_BUTTON_MIDDLE:
      *button = SPICE_MOUSE_BUTTON_MIDDLE;
      *mask = SPICE_MOUSE_BUTTON_MASK_MIDDLE;
      return TRUE;

    case GDK_BUTTON_SECONDARY:
      *button = SPICE_MOUSE_BUTTON_RIGHT;
      *mask = SPICE_MOUSE_BUTTON_MASK_RIGHT;
      return TRUE;

    /* X11 numbers the back and forward buttons 8 and 9. */
    case 8:
      *button = SPICE_MOUSE_BUTTON_SIDE;
      *mask = SPICE_MOUSE_BUTTON_MASK_SIDE;
      return TRUE;

    case 9:
      *button = SPICE_MOUSE_BUTTON_EXTRA;
      *mask = SPICE_MOUSE_BUTTON_MASK_EXTRA;
      return TRUE;

    default:
      return FALSE;
    }
}

/* Raw button events rather than GtkGestureClick: a guest needs every
 * button's press and release, also chords of several held buttons, which a
 * single-button gesture does not report. The position was already sent by
 * the motion controller. */
static gboolean
casement_display_button_event (GtkEventControllerLegacy *controller,
                               GdkEvent                 *event,
                               CasementDisplay          *self)
{
  GdkEventType type = gdk_event_get_event_type (event);
  int button, mask;

  g_assert (CASEMENT_IS_DISPLAY (self));

  /* Clicks on the status page (its Reconnect button) are not ours. */
  if ((type != GDK_BUTTON_PRESS && type != GDK_BUTTON_RELEASE) ||
      self->inputs_channel == NULL || self->state != CASEMENT_DISPLAY_STATE_RUNNING)
    return FALSE;

  if (type == GDK_BUTTON_PRESS)
    {
      gtk_widget_grab_focus (GTK_WIDGET (self));
      self->grab_released = FALSE;
      casement_display_grab_keyboard (self, event);
    }

  if (!casement_display_map_button (gdk_button_event_get_button (event), &button, &mask))
    return TRUE;

  if (type == GDK_BUTTON_PRESS)
    {
      self->button_mask |= mask;
      spice_inputs_channel_button_press (self->inputs_channel, button, self->button_mask);
    }
  else
    {
      self->button_mask &= ~mask;
      spice_inputs_channel_button_release (self->inputs_channel, button, self->button_mask);
    }

  return TRUE;
}

static gboolean
casement_display_scroll (GtkEventControllerScroll *controller,
                         double                    dx,
                         double                    dy,
                         CasementDisplay          *self)
{
  int button = dy < 0 ? SPICE_MOUSE_BUTTON_UP : SPICE_MOUSE_BUTTON_DOWN;
  int mask = dy < 0 ? SPICE_MOUSE_BUTTON_MASK_UP : SPICE_MOUSE_BUTTON_MASK_DOWN;
  int steps = (int) ABS (dy);

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->inputs_channel == NULL || self->state != CASEMENT_DISPLAY_STATE_RUNNING)
    return FALSE;

  /* A wheel click is a press and release of the wheel "button". */
  for (int i = 0; i < steps; i++)
    {
      spice_inputs_channel_button_press (self->inputs_channel, button, self->button_mask | mask);
      spice_inputs_channel_button_release (self->inputs_channel, button, self->button_mask);
    }

  return TRUE;
}

/* --- cursor -------------------------------------------------------------- */

static void
casement_display_cursor_changed (SpiceCursorChannel *channel,
                                 GParamSpec         *pspec,
                                 CasementDisplay    *self)
{
  g_autoptr(GdkCursor) cursor = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) bytes = NULL;
  SpiceCursorShape *shape = NULL;

  g_assert (CASEMENT_IS_DISPLAY (self));

  g_object_get (channel, "cursor", &shape, NULL);

  if (shape == NULL || shape->data == NULL || shape->width == 0 || shape->height == 0)
    {
      gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
      if (shape != NULL)
        g_boxed_free (SPICE_TYPE_CURSOR_SHAPE, shape);
      return;
    }

  /* spice-client-glib hands out every cursor type converted to 32-bit
   * pixels, bytes in R, G, B, A order. */
  bytes = g_bytes_new (shape->data, (gsize) shape->width * shape->height * 4);
  texture = gdk_memory_texture_new (shape->width, shape->height, CURSOR_MEMORY_FORMAT,
                                    bytes, (gsize) shape->width * 4);
  cursor = gdk_cursor_new_from_texture (texture, shape->hot_spot_x, shape->hot_spot_y, NULL);
  gtk_widget_set_cursor (GTK_WIDGET (self), cursor);

  g_boxed_free (SPICE_TYPE_CURSOR_SHAPE, shape);
}

static void
casement_display_cursor_hide (SpiceCursorChannel *channel,
                              CasementDisplay    *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "none");
}

static void
casement_display_cursor_reset (SpiceCursorChannel *channel,
                               CasementDisplay    *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
}

/* --- resizing the guest -------------------------------------------------- */

static gboolean
casement_display_resize_guest_timeout (gpointer user_data)
{
  CasementDisplay *self = user_data;
  int scale_factor, width, height;

  g_assert (CASEMENT_IS_DISPLAY (self));

  self->resize_timeout_id = 0;

  if (!self->resize_guest || self->main_channel == NULL)
    return G_SOURCE_REMOVE;

  if (!self->agent_connected)
    {
      g_debug ("No guest agent: scaling the frame instead of resizing the guest");
      return G_SOURCE_REMOVE;
    }

  scale_factor = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  width = self->allocated_width * scale_factor;
  height = self->allocated_height * scale_factor;
  if (width <= 0 || height <= 0 ||
      (width == self->requested_width && height == self->requested_height))
    return G_SOURCE_REMOVE;

  g_debug ("Asking the guest for %d×%d", width, height);

  spice_main_channel_update_display_enabled (self->main_channel, 0, TRUE, FALSE);
  spice_main_channel_update_display (self->main_channel, 0, 0, 0, width, height, TRUE);
  self->requested_width = width;
  self->requested_height = height;

  return G_SOURCE_REMOVE;
}

static void
casement_display_schedule_resize (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  g_clear_handle_id (&self->resize_timeout_id, g_source_remove);

  if (self->resize_guest && self->main_channel != NULL)
    self->resize_timeout_id = g_timeout_add (RESIZE_GUEST_DELAY_MS,
                                             casement_display_resize_guest_timeout,
                                             self);
}

/* --- clipboard ----------------------------------------------------------- */

static GdkClipboard *
casement_display_get_clipboard_for (CasementDisplay *self,
                                    guint            selection)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (selection >= G_N_ELEMENTS (self->clipboards))
    return NULL;

  /* PRIMARY needs an agent that knows about selections. */
  if (selection == VD_AGENT_CLIPBOARD_SELECTION_PRIMARY &&
      (self->main_channel == NULL ||
       !spice_main_channel_agent_test_capability (self->main_channel, VD_AGENT_CAP_CLIPBOARD_SELECTION)))
    return NULL;

  return self->clipboards[selection];
}

static gboolean
casement_display_clipboard_grab (SpiceMainChannel *channel,
                                 guint             selection,
                                 guint32          *types,
                                 guint             n_types,
                                 CasementDisplay  *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!self->clipboard_sharing || casement_display_get_clipboard_for (self, selection) == NULL)
    return TRUE;

  for (guint i = 0; i < n_types; i++)
    {
      if (types[i] == VD_AGENT_CLIPBOARD_UTF8_TEXT)
        {
          /* Fetch right away: GTK 4.8 content providers cannot wait for a
           * reply that arrives later on the main loop. */
          spice_main_channel_clipboard_selection_request (channel, selection, VD_AGENT_CLIPBOARD_UTF8_TEXT);
          self->guest_owns_clipboard |= 1 << selection;
          self->host_owns_clipboard &= ~(1 << selection);
          break;
        }
    }

  return TRUE;
}

static void
casement_display_clipboard_data (SpiceMainChannel *channel,
                                 guint             selection,
                                 guint             type,
                                 const guchar     *data,
                                 guint             size,
                                 CasementDisplay  *self)
{
  GdkClipboard *clipboard;
  g_autofree char *text = NULL;
  g_autoptr(GdkContentProvider) content = NULL;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!self->clipboard_sharing || type != VD_AGENT_CLIPBOARD_UTF8_TEXT ||
      !(clipboard = casement_display_get_clipboard_for (self, selection)))
    return;

  text = g_strndup ((const char *) data, size);
  if (!g_utf8_validate (text, -1, NULL))
    return;

  /* Known as the guest's before "changed" runs, inside set_content(). */
  content = gdk_content_provider_new_typed (G_TYPE_STRING, text);
  g_set_object (&self->guest_contents[selection], content);
  gdk_clipboard_set_content (clipboard, content);
}

/* Whether @clipboard still holds the text the guest put there: other text
 * copied in this process is local too, and is the host's. */
static gboolean
casement_display_clipboard_is_guests (CasementDisplay *self,
                                      GdkClipboard    *clipboard,
                                      guint            selection)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  return gdk_clipboard_is_local (clipboard) &&
         gdk_clipboard_get_content (clipboard) == self->guest_contents[selection];
}

static void
casement_display_clipboard_release (SpiceMainChannel *channel,
                                    guint             selection,
                                    CasementDisplay  *self)
{
  GdkClipboard *clipboard;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!(self->guest_owns_clipboard & (1 << selection)))
    return;

  self->guest_owns_clipboard &= ~(1 << selection);

  /* Only drop what the guest put there, not what the host copied since. */
  if ((clipboard = casement_display_get_clipboard_for (self, selection)) &&
      casement_display_clipboard_is_guests (self, clipboard, selection))
    gdk_clipboard_set_content (clipboard, NULL);
}

typedef struct
{
  CasementDisplay  *self;
  SpiceMainChannel *channel;
  guint             selection;
} ClipboardRequest;

static void
clipboard_request_free (ClipboardRequest *request)
{
  g_clear_object (&request->self);
  g_clear_object (&request->channel);
  g_free (request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClipboardRequest, clipboard_request_free)

static void
casement_display_clipboard_read_cb (GObject      *object,
                                    GAsyncResult *result,
                                    gpointer      user_data)
{
  g_autoptr(ClipboardRequest) request = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, &error);
  if (text == NULL && error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (error != NULL)
    g_debug ("Cannot read the clipboard for the guest: %s", error->message);

  /* The guest waits for an answer, so it gets one even when empty. */
  spice_main_channel_clipboard_selection_notify (request->channel, request->selection,
                                                 VD_AGENT_CLIPBOARD_UTF8_TEXT,
                                                 (const guchar *) text,
                                                 text != NULL ? strlen (text) : 0);
}

static gboolean
casement_display_clipboard_request (SpiceMainChannel *channel,
                                    guint             selection,
                                    guint             type,
                                    CasementDisplay  *self)
{
  GdkClipboard *clipboard;
  ClipboardRequest *request;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!self->clipboard_sharing || type != VD_AGENT_CLIPBOARD_UTF8_TEXT ||
      !(clipboard = casement_display_get_clipboard_for (self, selection)))
    return FALSE;

  request = g_new0 (ClipboardRequest, 1);
  request->self = g_object_ref (self);
  request->channel = g_object_ref (channel);
  request->selection = selection;
  gdk_clipboard_read_text_async (clipboard, self->clipboard_cancellable,
                                 casement_display_clipboard_read_cb, request);

  return TRUE;
}

static void
casement_display_offer_clipboard (CasementDisplay *self,
                                  guint            selection)
{
  GdkClipboard *clipboard;
  GdkContentFormats *formats;
  guint32 type = VD_AGENT_CLIPBOARD_UTF8_TEXT;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (!self->clipboard_sharing || !self->agent_clipboard ||
      !(clipboard = casement_display_get_clipboard_for (self, selection)))
    return;

  /* Our own copy of the guest's text must not bounce back to it. */
  if (casement_display_clipboard_is_guests (self, clipboard, selection))
    return;

  formats = gdk_clipboard_get_formats (clipboard);
  if (!gdk_content_formats_contain_gtype (formats, G_TYPE_STRING) &&
      !gdk_content_formats_contain_mime_type (formats, "text/plain;charset=utf-8") &&
      !gdk_content_formats_contain_mime_type (formats, "text/plain"))
    return;

  spice_main_channel_clipboard_selection_grab (self->main_channel, selection, &type, 1);
  self->host_owns_clipboard |= 1 << selection;
  self->guest_owns_clipboard &= ~(1 << selection);
}

static void
casement_display_host_clipboard_changed (GdkClipboard    *clipboard,
                                         CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  for (guint i = 0; i < G_N_ELEMENTS (self->clipboards); i++)
    {
      if (self->clipboards[i] == clipboard)
        casement_display_offer_clipboard (self, i);
    }
}

static void
casement_display_release_guest_clipboard (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  for (guint i = 0; i < G_N_ELEMENTS (self->clipboards); i++)
    {
      if ((self->host_owns_clipboard & (1 << i)) && self->main_channel != NULL && self->agent_connected)
        spice_main_channel_clipboard_selection_release (self->main_channel, i);
    }

  self->host_owns_clipboard = 0;
  self->guest_owns_clipboard = 0;
}

/* --- session ------------------------------------------------------------- */

static void
casement_display_agent_update (SpiceMainChannel *channel,
                               CasementDisplay  *self)
{
  gboolean connected = FALSE;
  gboolean clipboard;

  g_assert (CASEMENT_IS_DISPLAY (self));

  g_object_get (channel, "agent-connected", &connected, NULL);
  /* The agent's capabilities come in a later update than its connection,
   * and spice-client-glib refuses clipboard messages until then. */
  clipboard = connected &&
              spice_main_channel_agent_test_capability (channel, VD_AGENT_CAP_CLIPBOARD_BY_DEMAND);
  if (self->agent_clipboard != clipboard)
    {
      self->agent_clipboard = clipboard;
      for (guint i = 0; clipboard && i < G_N_ELEMENTS (self->clipboards); i++)
        casement_display_offer_clipboard (self, i);
    }

  if (self->agent_connected == !!connected)
    return;

  g_debug ("Guest agent %s", connected ? "connected" : "gone");
  self->agent_connected = !!connected;
  self->requested_width = self->requested_height = 0;

  if (connected)
    casement_display_schedule_resize (self);
  else
    {
      self->host_owns_clipboard = 0;
      self->guest_owns_clipboard = 0;
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGENT_CONNECTED]);
}

static gboolean
casement_display_close_idle (gpointer user_data)
{
  CasementDisplay *self = user_data;

  g_assert (CASEMENT_IS_DISPLAY (self));

  casement_display_close_session (self);
  casement_display_set_state (self, CASEMENT_DISPLAY_STATE_DISCONNECTED);

  return G_SOURCE_REMOVE;
}

static void
casement_display_main_event (SpiceChannel      *channel,
                             SpiceChannelEvent  event,
                             CasementDisplay   *self)
{
  const GError *error;

  g_assert (CASEMENT_IS_DISPLAY (self));

  g_debug ("Main channel event %d", event);

  switch (event)
    {
    case SPICE_CHANNEL_OPENED:
      g_clear_pointer (&self->last_error, g_free);
      casement_display_set_state (self, CASEMENT_DISPLAY_STATE_WAITING);
      casement_display_update_running (self);
      casement_display_schedule_resize (self);
      break;

    case SPICE_CHANNEL_CLOSED:
    case SPICE_CHANNEL_ERROR_CONNECT:
    case SPICE_CHANNEL_ERROR_TLS:
    case SPICE_CHANNEL_ERROR_LINK:
    case SPICE_CHANNEL_ERROR_AUTH:
    case SPICE_CHANNEL_ERROR_IO:
      g_clear_pointer (&self->last_error, g_free);
      if (event == SPICE_CHANNEL_ERROR_CONNECT)
        {
          error = spice_channel_get_error (channel);
          self->last_error = g_strdup_printf (_("Cannot connect to the virtual machine’s display at %s: %s. Start the virtual machine, then reconnect."),
                                              self->unix_path,
                                              error != NULL ? error->message : _("connection refused"));
        }
      else if (event != SPICE_CHANNEL_CLOSED)
        {
          error = spice_channel_get_error (channel);
          self->last_error = g_strdup_printf (_("The connection to the virtual machine’s display broke: %s. Reconnect to try again."),
                                              error != NULL ? error->message : _("unknown error"));
        }

      /* Tearing the session down from inside its own signal is unsafe. */
      g_idle_add_full (G_PRIORITY_DEFAULT, casement_display_close_idle,
                       g_object_ref (self), g_object_unref);
      break;

    case SPICE_CHANNEL_NONE:
    case SPICE_CHANNEL_SWITCHING:
    default:
      break;
    }
}

static void
casement_display_channel_new (SpiceSession    *session,
                              SpiceChannel    *channel,
                              CasementDisplay *self)
{
  int id = 0;

  g_assert (CASEMENT_IS_DISPLAY (self));

  g_object_get (channel, "channel-id", &id, NULL);
  g_debug ("New channel %s %d", G_OBJECT_TYPE_NAME (channel), id);

  if (SPICE_IS_MAIN_CHANNEL (channel))
    {
      g_set_object (&self->main_channel, SPICE_MAIN_CHANNEL (channel));
      g_signal_connect_object (channel, "channel-event",
                               G_CALLBACK (casement_display_main_event), self, 0);
      g_signal_connect_object (channel, "main-agent-update",
                               G_CALLBACK (casement_display_agent_update), self, 0);
      g_signal_connect_object (channel, "main-clipboard-selection-grab",
                               G_CALLBACK (casement_display_clipboard_grab), self, 0);
      g_signal_connect_object (channel, "main-clipboard-selection",
                               G_CALLBACK (casement_display_clipboard_data), self, 0);
      g_signal_connect_object (channel, "main-clipboard-selection-release",
                               G_CALLBACK (casement_display_clipboard_release), self, 0);
      g_signal_connect_object (channel, "main-clipboard-selection-request",
                               G_CALLBACK (casement_display_clipboard_request), self, 0);
      return;
    }

  /* One monitor: the first display channel. */
  if (SPICE_IS_DISPLAY_CHANNEL (channel) && id == 0 && self->display_channel == NULL)
    {
      self->display_channel = g_object_ref (SPICE_DISPLAY_CHANNEL (channel));
      g_signal_connect_object (channel, "display-primary-create",
                               G_CALLBACK (casement_display_primary_create), self, 0);
      g_signal_connect_object (channel, "display-primary-destroy",
                               G_CALLBACK (casement_display_primary_destroy), self, 0);
      g_signal_connect_object (channel, "display-invalidate",
                               G_CALLBACK (casement_display_invalidate), self, 0);
      g_signal_connect_object (channel, "display-mark",
                               G_CALLBACK (casement_display_mark), self, 0);
      spice_channel_connect (channel);
      return;
    }

  if (SPICE_IS_INPUTS_CHANNEL (channel) && self->inputs_channel == NULL)
    {
      self->inputs_channel = g_object_ref (SPICE_INPUTS_CHANNEL (channel));
      g_signal_connect_object (channel, "channel-event",
                               G_CALLBACK (casement_display_inputs_event), self, 0);
      g_signal_connect_object (channel, "inputs-modifiers",
                               G_CALLBACK (casement_display_inputs_modifiers), self, 0);
      /* The frame shows before this channel opens, and spice-client-glib
       * drops keys sent before that; its "key-modifiers" only holds the
       * guest's locks once the server's first report is in. So the host's
       * locks go with the channel's opening, and typed keys wait for the
       * report that the guest has them. */
      casement_display_request_locks (self, casement_display_get_host_locks (self));
      spice_channel_connect (channel);
      return;
    }

  if (SPICE_IS_CURSOR_CHANNEL (channel) && id == 0 && self->cursor_channel == NULL)
    {
      self->cursor_channel = g_object_ref (SPICE_CURSOR_CHANNEL (channel));
      g_signal_connect_object (channel, "notify::cursor",
                               G_CALLBACK (casement_display_cursor_changed), self, 0);
      g_signal_connect_object (channel, "cursor-hide",
                               G_CALLBACK (casement_display_cursor_hide), self, 0);
      g_signal_connect_object (channel, "cursor-reset",
                               G_CALLBACK (casement_display_cursor_reset), self, 0);
      spice_channel_connect (channel);
      return;
    }

  /* The USB device manager redirects through these once they are open. */
  if (SPICE_IS_USBREDIR_CHANNEL (channel))
    spice_channel_connect (channel);

  /* It serves the session's shared-dir to the guest's spice-webdavd. */
  if (SPICE_IS_WEBDAV_CHANNEL (channel) && self->shared_folder != NULL)
    spice_channel_connect (channel);

  /* Playback and record channels belong to SpiceAudio (see connect()). */
}

static void
casement_display_channel_destroy (SpiceSession    *session,
                                  SpiceChannel    *channel,
                                  CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if ((gpointer) channel == (gpointer) self->display_channel)
    {
      casement_display_primary_destroy (channel, self);
      g_signal_handlers_disconnect_by_data (channel, self);
      g_clear_object (&self->display_channel);
    }
  else if ((gpointer) channel == (gpointer) self->inputs_channel)
    {
      g_signal_handlers_disconnect_by_data (channel, self);
      g_clear_object (&self->inputs_channel);
      self->inputs_open = FALSE;
      casement_display_flush_held_keys (self);
      memset (self->pressed_keys, 0, sizeof self->pressed_keys);
    }
  else if ((gpointer) channel == (gpointer) self->cursor_channel)
    {
      g_signal_handlers_disconnect_by_data (channel, self);
      g_clear_object (&self->cursor_channel);
    }
  else if ((gpointer) channel == (gpointer) self->main_channel)
    {
      g_signal_handlers_disconnect_by_data (channel, self);
      g_clear_object (&self->main_channel);
    }
}

static void
casement_display_close_session (CasementDisplay *self)
{
  SpiceSession *session;
  SpiceChannel *channels[] = {
    SPICE_CHANNEL (self->main_channel), SPICE_CHANNEL (self->display_channel),
    SPICE_CHANNEL (self->inputs_channel), SPICE_CHANNEL (self->cursor_channel),
  };

  g_assert (CASEMENT_IS_DISPLAY (self));

  /* While the session still owns the frame's memory. */
  casement_display_drop_tiles (self);
  casement_display_release_keys (self);
  casement_display_ungrab_keyboard (self);
  g_clear_handle_id (&self->resize_timeout_id, g_source_remove);
  g_cancellable_cancel (self->clipboard_cancellable);
  g_clear_object (&self->clipboard_cancellable);
  self->clipboard_cancellable = g_cancellable_new ();

  /* Nothing the old session says may reach us any more. */
  for (guint i = 0; i < G_N_ELEMENTS (channels); i++)
    {
      if (channels[i] != NULL)
        g_signal_handlers_disconnect_by_data (channels[i], self);
    }

  g_clear_object (&self->main_channel);
  g_clear_object (&self->display_channel);
  g_clear_object (&self->inputs_channel);
  g_clear_object (&self->cursor_channel);

  if ((session = g_steal_pointer (&self->session)))
    {
      g_signal_handlers_disconnect_by_data (session, self);
      spice_session_disconnect (session);
      g_object_unref (session);
    }

  self->primary_data = NULL;
  self->primary_width = self->primary_height = self->primary_stride = 0;
  self->primary_marked = FALSE;
  self->inputs_open = FALSE;
  self->button_mask = 0;
  self->host_owns_clipboard = 0;
  self->guest_owns_clipboard = 0;
  self->agent_clipboard = FALSE;
  g_clear_pointer (&self->dirty, cairo_region_destroy);
  gtk_widget_set_cursor (GTK_WIDGET (self), NULL);

  if (self->agent_connected)
    {
      self->agent_connected = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGENT_CONNECTED]);
    }
  self->requested_width = self->requested_height = 0;
}

void
casement_display_connect (CasementDisplay *self,
                          const char      *unix_path)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));
  g_return_if_fail (unix_path != NULL);

  casement_display_close_session (self);
  g_clear_pointer (&self->last_error, g_free);

  if (g_strcmp0 (self->unix_path, unix_path) != 0)
    {
      g_free (self->unix_path);
      self->unix_path = g_strdup (unix_path);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNIX_PATH]);
    }

  g_debug ("Connecting to %s", unix_path);

  self->session = spice_session_new ();
  g_object_set (self->session,
                "unix-path", unix_path,
                "enable-audio", (gboolean) self->audio,
                "enable-usbredir", TRUE,
                /* Windows guests have no virgl driver: no GL scanouts come. */
                "gl-scanout", FALSE,
                "shared-dir", self->shared_folder,
                "share-dir-ro", (gboolean) self->shared_folder_read_only,
                NULL);
  g_signal_connect_object (self->session, "channel-new",
                           G_CALLBACK (casement_display_channel_new), self, 0);
  g_signal_connect_object (self->session, "channel-destroy",
                           G_CALLBACK (casement_display_channel_destroy), self, 0);

  /* SpiceAudio follows the session's playback/record channels itself. */
  if (self->audio)
    spice_audio_get (self->session, NULL);

  self->state = CASEMENT_DISPLAY_STATE_DISCONNECTED;
  casement_display_set_state (self, CASEMENT_DISPLAY_STATE_CONNECTING);

  if (!spice_session_connect (self->session))
    {
      self->last_error = g_strdup_printf (_("Cannot connect to the virtual machine’s display at %s. Check that the virtual machine runs, then reconnect."),
                                          unix_path);
      casement_display_close_session (self);
      casement_display_set_state (self, CASEMENT_DISPLAY_STATE_DISCONNECTED);
    }
}

void
casement_display_disconnect (CasementDisplay *self)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  casement_display_close_session (self);
  g_clear_pointer (&self->last_error, g_free);
  casement_display_set_state (self, CASEMENT_DISPLAY_STATE_DISCONNECTED);
}

static void
casement_display_real_reconnect (CasementDisplay *self)
{
  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->unix_path != NULL)
    {
      g_autofree char *path = g_strdup (self->unix_path);
      casement_display_connect (self, path);
    }
}

static void
casement_display_reconnect_action (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *parameter)
{
  g_signal_emit (widget, signals[RECONNECT], 0);
}

/* --- USB ----------------------------------------------------------------- */

static SpiceUsbDeviceManager *
casement_display_get_usb_manager (CasementDisplay  *self,
                                  GError          **error)
{
  g_autoptr(GError) local_error = NULL;
  SpiceUsbDeviceManager *manager;

  g_assert (CASEMENT_IS_DISPLAY (self));

  if (self->session == NULL)
    {
      g_set_error_literal (error, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_NOT_CONNECTED,
                           _("Not connected to a virtual machine. Start it and connect first."));
      return NULL;
    }

  if (!(manager = spice_usb_device_manager_get (self->session, &local_error)))
    {
      g_set_error (error, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_USB,
                   _("USB redirection is not available: %s"), local_error->message);
      return NULL;
    }

  return manager;
}

GPtrArray *
casement_display_list_usb_devices (CasementDisplay  *self,
                                   GError          **error)
{
  SpiceUsbDeviceManager *manager;

  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), NULL);

  if (!(manager = casement_display_get_usb_manager (self, error)))
    return NULL;

  return spice_usb_device_manager_get_devices (manager);
}

gboolean
casement_display_is_usb_device_redirected (CasementDisplay *self,
                                           SpiceUsbDevice  *device)
{
  SpiceUsbDeviceManager *manager;

  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);
  g_return_val_if_fail (device != NULL, FALSE);

  if (!(manager = casement_display_get_usb_manager (self, NULL)))
    return FALSE;

  return spice_usb_device_manager_is_device_connected (manager, device);
}

static void
casement_display_usb_connect_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!spice_usb_device_manager_connect_device_finish (SPICE_USB_DEVICE_MANAGER (object), result, &error))
    g_task_return_new_error (task, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_USB,
                             _("Cannot redirect the USB device: %s"), error->message);
  else
    g_task_return_boolean (task, TRUE);
}

static void
casement_display_usb_disconnect_cb (GObject      *object,
                                    GAsyncResult *result,
                                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!spice_usb_device_manager_disconnect_device_finish (SPICE_USB_DEVICE_MANAGER (object), result, &error))
    g_task_return_new_error (task, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_USB,
                             _("Cannot give the USB device back to this computer: %s"), error->message);
  else
    g_task_return_boolean (task, TRUE);
}

void
casement_display_redirect_usb_device_async (CasementDisplay     *self,
                                            SpiceUsbDevice      *device,
                                            gboolean             redirect,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SpiceUsbDeviceManager *manager;

  g_return_if_fail (CASEMENT_IS_DISPLAY (self));
  g_return_if_fail (device != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_display_redirect_usb_device_async);

  if (!(manager = casement_display_get_usb_manager (self, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (redirect)
    {
      if (!spice_usb_device_manager_can_redirect_device (manager, device, &error))
        {
          g_task_return_new_error (task, CASEMENT_DISPLAY_ERROR, CASEMENT_DISPLAY_ERROR_USB,
                                   _("Cannot redirect the USB device: %s"), error->message);
          return;
        }

      spice_usb_device_manager_connect_device_async (manager, device, cancellable,
                                                     casement_display_usb_connect_cb,
                                                     g_steal_pointer (&task));
    }
  else
    spice_usb_device_manager_disconnect_device_async (manager, device, cancellable,
                                                      casement_display_usb_disconnect_cb,
                                                      g_steal_pointer (&task));
}

gboolean
casement_display_redirect_usb_device_finish (CasementDisplay  *self,
                                             GAsyncResult     *result,
                                             GError          **error)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- GtkWidget ----------------------------------------------------------- */

static void
casement_display_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);
  int scale_factor = gtk_widget_get_scale_factor (widget);
  int guest_size = 0;

  g_assert (CASEMENT_IS_DISPLAY (self));

  gtk_widget_measure (GTK_WIDGET (self->overlay), orientation, for_size,
                      minimum, natural, NULL, NULL);

  if (self->primary_data != NULL)
    guest_size = (orientation == GTK_ORIENTATION_HORIZONTAL ? self->primary_width : self->primary_height)
                 / scale_factor;

  /* Scaled, any size works and the guest's own is the natural one; 1:1
   * needs all of it (a scrolled window around us provides the scrolling). */
  *natural = MAX (*natural, guest_size);
  if (!self->scale)
    *minimum = MAX (*minimum, guest_size);
}

static void
casement_display_size_allocate (GtkWidget *widget,
                                int        width,
                                int        height,
                                int        baseline)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);

  g_assert (CASEMENT_IS_DISPLAY (self));

  gtk_widget_allocate (GTK_WIDGET (self->overlay), width, height, baseline, NULL);
  casement_display_sync_presenter (self);

  if (width != self->allocated_width || height != self->allocated_height)
    {
      self->allocated_width = width;
      self->allocated_height = height;
      casement_display_schedule_resize (self);
    }
}

static void
casement_display_realize (GtkWidget *widget)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);

  GTK_WIDGET_CLASS (casement_display_parent_class)->realize (widget);

  /* Under the cairo renderer a GL area is drawn by reading its pixels
   * back from GL every frame: the software path is much cheaper there. */
  if (self->use_gl && casement_display_renderer_is_cairo (self))
    {
      g_debug ("The window renders with cairo: using the software path");
      self->use_gl = FALSE;
      gtk_overlay_set_child (self->overlay, NULL);
      self->gl_area = NULL;
    }

  if (!self->use_gl && casement_display_renderer_is_cairo (self) &&
      g_strcmp0 (g_getenv ("CASEMENT_DISPLAY_NO_X11"), "1") != 0)
    self->presenter = casement_x11_presenter_new (gtk_native_get_surface (gtk_widget_get_native (widget)));

  self->clipboards[VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD] = gtk_widget_get_clipboard (widget);
  self->clipboards[VD_AGENT_CLIPBOARD_SELECTION_PRIMARY] = gtk_widget_get_primary_clipboard (widget);

  for (guint i = 0; i < G_N_ELEMENTS (self->clipboards); i++)
    g_signal_connect_object (self->clipboards[i], "changed",
                             G_CALLBACK (casement_display_host_clipboard_changed), self, 0);
}

static void
casement_display_map (GtkWidget *widget)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);

  GTK_WIDGET_CLASS (casement_display_parent_class)->map (widget);
  casement_display_sync_presenter (self);
}

static void
casement_display_unmap (GtkWidget *widget)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);

  GTK_WIDGET_CLASS (casement_display_parent_class)->unmap (widget);
  casement_display_sync_presenter (self);
}

static void
casement_display_unrealize (GtkWidget *widget)
{
  CasementDisplay *self = CASEMENT_DISPLAY (widget);

  if (self->present_tick_id != 0)
    gtk_widget_remove_tick_callback (widget, self->present_tick_id);
  self->present_tick_id = 0;
  g_clear_object (&self->presenter);

  for (guint i = 0; i < G_N_ELEMENTS (self->clipboards); i++)
    {
      if (self->clipboards[i] != NULL)
        g_signal_handlers_disconnect_by_data (self->clipboards[i], self);
      self->clipboards[i] = NULL;
    }

  GTK_WIDGET_CLASS (casement_display_parent_class)->unrealize (widget);
}

static void
casement_display_dispose (GObject *object)
{
  CasementDisplay *self = (CasementDisplay *)object;

  casement_display_close_session (self);
  g_cancellable_cancel (self->clipboard_cancellable);
  g_clear_object (&self->clipboard_cancellable);
  for (guint i = 0; i < G_N_ELEMENTS (self->guest_contents); i++)
    g_clear_object (&self->guest_contents[i]);
  g_clear_handle_id (&self->grab_hint_timeout_id, g_source_remove);

  gtk_widget_dispose_template (GTK_WIDGET (self), CASEMENT_TYPE_DISPLAY);
  self->gl_area = NULL;

  G_OBJECT_CLASS (casement_display_parent_class)->dispose (object);
}

static void
casement_display_finalize (GObject *object)
{
  CasementDisplay *self = (CasementDisplay *)object;

  g_clear_object (&self->release_trigger);
  g_clear_pointer (&self->release_shortcut, g_free);
  g_clear_pointer (&self->unix_path, g_free);
  g_clear_pointer (&self->shared_folder, g_free);
  g_clear_pointer (&self->last_error, g_free);
  g_clear_pointer (&self->held_keys, g_array_unref);

  G_OBJECT_CLASS (casement_display_parent_class)->finalize (object);
}

static void
casement_display_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  CasementDisplay *self = CASEMENT_DISPLAY (object);

  switch (prop_id)
    {
    case PROP_AGENT_CONNECTED:
      g_value_set_boolean (value, casement_display_get_agent_connected (self));
      break;

    case PROP_AUDIO:
      g_value_set_boolean (value, casement_display_get_audio (self));
      break;

    case PROP_CLIPBOARD_SHARING:
      g_value_set_boolean (value, casement_display_get_clipboard_sharing (self));
      break;

    case PROP_KEYBOARD_GRABBED:
      g_value_set_boolean (value, casement_display_get_keyboard_grabbed (self));
      break;

    case PROP_RELEASE_SHORTCUT:
      g_value_set_string (value, casement_display_get_release_shortcut (self));
      break;

    case PROP_RESIZE_GUEST:
      g_value_set_boolean (value, casement_display_get_resize_guest (self));
      break;

    case PROP_SCALE:
      g_value_set_boolean (value, casement_display_get_scale (self));
      break;

    case PROP_STATE:
      g_value_set_enum (value, casement_display_get_state (self));
      break;

    case PROP_UNIX_PATH:
      g_value_set_string (value, casement_display_get_unix_path (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_display_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  CasementDisplay *self = CASEMENT_DISPLAY (object);

  switch (prop_id)
    {
    case PROP_AUDIO:
      casement_display_set_audio (self, g_value_get_boolean (value));
      break;

    case PROP_CLIPBOARD_SHARING:
      casement_display_set_clipboard_sharing (self, g_value_get_boolean (value));
      break;

    case PROP_RELEASE_SHORTCUT:
      casement_display_set_release_shortcut (self, g_value_get_string (value));
      break;

    case PROP_RESIZE_GUEST:
      casement_display_set_resize_guest (self, g_value_get_boolean (value));
      break;

    case PROP_SCALE:
      casement_display_set_scale (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_display_class_init (CasementDisplayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = casement_display_dispose;
  object_class->finalize = casement_display_finalize;
  object_class->get_property = casement_display_get_property;
  object_class->set_property = casement_display_set_property;

  widget_class->measure = casement_display_measure;
  widget_class->size_allocate = casement_display_size_allocate;
  widget_class->snapshot = casement_display_snapshot;
  widget_class->realize = casement_display_realize;
  widget_class->unrealize = casement_display_unrealize;
  widget_class->map = casement_display_map;
  widget_class->unmap = casement_display_unmap;

  properties[PROP_AGENT_CONNECTED] =
    g_param_spec_boolean ("agent-connected", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_AUDIO] =
    g_param_spec_boolean ("audio", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CLIPBOARD_SHARING] =
    g_param_spec_boolean ("clipboard-sharing", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_KEYBOARD_GRABBED] =
    g_param_spec_boolean ("keyboard-grabbed", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_RELEASE_SHORTCUT] =
    g_param_spec_string ("release-shortcut", NULL, NULL,
                         "<Control><Alt>g",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_RESIZE_GUEST] =
    g_param_spec_boolean ("resize-guest", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SCALE] =
    g_param_spec_boolean ("scale", NULL, NULL,
                          TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       CASEMENT_TYPE_DISPLAY_STATE,
                       CASEMENT_DISPLAY_STATE_DISCONNECTED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_UNIX_PATH] =
    g_param_spec_string ("unix-path", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[RECONNECT] =
    g_signal_new_class_handler ("reconnect",
                                G_TYPE_FROM_CLASS (klass),
                                G_SIGNAL_RUN_LAST,
                                G_CALLBACK (casement_display_real_reconnect),
                                NULL, NULL, NULL,
                                G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "display.reconnect", NULL,
                                   casement_display_reconnect_action);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-display.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementDisplay, grab_hint);
  gtk_widget_class_bind_template_child (widget_class, CasementDisplay, grab_hint_label);
  gtk_widget_class_bind_template_child (widget_class, CasementDisplay, overlay);
  gtk_widget_class_bind_template_child (widget_class, CasementDisplay, reconnect_button);
  gtk_widget_class_bind_template_child (widget_class, CasementDisplay, status_page);

  gtk_widget_class_set_css_name (widget_class, "casement-display");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
casement_display_init (CasementDisplay *self)
{
  GtkEventController *controller;

  g_type_ensure (ADW_TYPE_STATUS_PAGE);
  gtk_widget_init_template (GTK_WIDGET (self));

  self->scale = TRUE;
  self->resize_guest = TRUE;
  self->clipboard_sharing = TRUE;
  self->clipboard_cancellable = g_cancellable_new ();
  self->held_keys = g_array_new (FALSE, FALSE, sizeof (guint));
  self->state = CASEMENT_DISPLAY_STATE_DISCONNECTED;
  casement_display_set_release_shortcut (self, "<Control><Alt>g");

  /* Tests force the software path; everything else takes GL when it
   * realizes, and falls back by itself when it does not. */
  self->use_gl = g_strcmp0 (g_getenv ("CASEMENT_DISPLAY_NO_GL"), "1") != 0;
  if (self->use_gl)
    {
      self->gl_area = GTK_GL_AREA (gtk_gl_area_new ());
      gtk_gl_area_set_required_version (self->gl_area, 3, 2);
      gtk_gl_area_set_auto_render (self->gl_area, FALSE);
      gtk_gl_area_set_has_depth_buffer (self->gl_area, FALSE);
      gtk_gl_area_set_has_stencil_buffer (self->gl_area, FALSE);
      gtk_widget_set_can_target (GTK_WIDGET (self->gl_area), FALSE);
      g_signal_connect_object (self->gl_area, "realize",
                               G_CALLBACK (casement_display_gl_area_realize), self, G_CONNECT_AFTER);
      g_signal_connect_object (self->gl_area, "unrealize",
                               G_CALLBACK (casement_display_gl_area_unrealize), self, 0);
      g_signal_connect_object (self->gl_area, "render",
                               G_CALLBACK (casement_display_gl_area_render), self, 0);
      gtk_overlay_set_child (self->overlay, GTK_WIDGET (self->gl_area));
    }

  /* The hint is drawn by GTK: the frame steps back from the X server
   * while it shows, from the moment it starts sliding in. */
  g_signal_connect_object (self->grab_hint, "notify::reveal-child",
                           G_CALLBACK (casement_display_grab_hint_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->grab_hint, "notify::child-revealed",
                           G_CALLBACK (casement_display_grab_hint_changed), self, G_CONNECT_SWAPPED);

  /* Capture phase: the guest gets keys before any widget inside us (the
   * Reconnect button) or default key bindings can act on them. */
  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (casement_display_key_pressed), self, 0);
  g_signal_connect_object (controller, "key-released",
                           G_CALLBACK (casement_display_key_released), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_focus_new ();
  g_signal_connect_object (controller, "enter",
                           G_CALLBACK (casement_display_focus_enter), self, 0);
  g_signal_connect_object (controller, "leave",
                           G_CALLBACK (casement_display_focus_leave), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect_object (controller, "motion",
                           G_CALLBACK (casement_display_motion), self, 0);
  g_signal_connect_object (controller, "enter",
                           G_CALLBACK (casement_display_pointer_enter), self, 0);
  g_signal_connect_object (controller, "leave",
                           G_CALLBACK (casement_display_pointer_leave), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_legacy_new ();
  g_signal_connect_object (controller, "event",
                           G_CALLBACK (casement_display_button_event), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL |
                                                GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect_object (controller, "scroll",
                           G_CALLBACK (casement_display_scroll), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Virtual machine screen"),
                                  -1);
  casement_display_update_status (self);
}

/* --- public API ---------------------------------------------------------- */

GtkWidget *
casement_display_new (void)
{
  return g_object_new (CASEMENT_TYPE_DISPLAY, NULL);
}

gboolean
casement_display_choose_renderer (void)
{
  static const char * const software_rasterizers[] = {
    "llvmpipe", "softpipe", "SWR", "Software Rasterizer",
  };
  g_autoptr(GdkGLContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GdkDisplay *display;
  const char *renderer;
  gboolean software = FALSE;

  if (g_getenv ("GSK_RENDERER") != NULL || !(display = gdk_display_get_default ()))
    return FALSE;

  /* Without GL at all GTK picks cairo by itself. */
  if (!(context = gdk_display_create_gl_context (display, &error)) ||
      !gdk_gl_context_realize (context, &error))
    return FALSE;

  gdk_gl_context_make_current (context);
  renderer = (const char *) glGetString (GL_RENDERER);
  for (guint i = 0; renderer != NULL && i < G_N_ELEMENTS (software_rasterizers); i++)
    software |= strstr (renderer, software_rasterizers[i]) != NULL;
  g_debug ("GL renderer: %s", renderer != NULL ? renderer : "unknown");
  gdk_gl_context_clear_current ();

  if (software)
    g_setenv ("GSK_RENDERER", "cairo", FALSE);

  return software;
}

void
casement_display_set_shared_folder (CasementDisplay *self,
                                    const char      *path,
                                    gboolean         read_only)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  g_free (self->shared_folder);
  self->shared_folder = g_strdup (path);
  self->shared_folder_read_only = !!read_only;
}

const char *
casement_display_get_unix_path (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), NULL);

  return self->unix_path;
}

CasementDisplayState
casement_display_get_state (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), CASEMENT_DISPLAY_STATE_DISCONNECTED);

  return self->state;
}

gboolean
casement_display_get_guest_size (CasementDisplay *self,
                                 int             *width,
                                 int             *height)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  if (width != NULL)
    *width = self->primary_data != NULL ? self->primary_width : 0;
  if (height != NULL)
    *height = self->primary_data != NULL ? self->primary_height : 0;

  return self->primary_data != NULL;
}

gboolean
casement_display_get_uses_gl (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  return self->use_gl;
}

void
casement_display_get_stats (CasementDisplay      *self,
                            CasementDisplayStats *stats)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));
  g_return_if_fail (stats != NULL);

  *stats = self->stats;
}

gboolean
casement_display_get_scale (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), TRUE);

  return self->scale;
}

void
casement_display_set_scale (CasementDisplay *self,
                            gboolean         scale)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  scale = !!scale;
  if (self->scale == scale)
    return;

  self->scale = scale;
  casement_display_queue_frame (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
}

gboolean
casement_display_get_resize_guest (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  return self->resize_guest;
}

void
casement_display_set_resize_guest (CasementDisplay *self,
                                   gboolean         resize_guest)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  resize_guest = !!resize_guest;
  if (self->resize_guest == resize_guest)
    return;

  self->resize_guest = resize_guest;
  self->requested_width = self->requested_height = 0;
  casement_display_schedule_resize (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESIZE_GUEST]);
}

gboolean
casement_display_get_requested_guest_size (CasementDisplay *self,
                                           int             *width,
                                           int             *height)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  if (width != NULL)
    *width = self->requested_width;
  if (height != NULL)
    *height = self->requested_height;

  return self->requested_width > 0;
}

gboolean
casement_display_get_agent_connected (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  return self->agent_connected;
}

const char *
casement_display_get_release_shortcut (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), NULL);

  return self->release_shortcut;
}

void
casement_display_set_release_shortcut (CasementDisplay *self,
                                       const char      *release_shortcut)
{
  GtkShortcutTrigger *trigger = NULL;

  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  if (g_strcmp0 (self->release_shortcut, release_shortcut) == 0)
    return;

  if (release_shortcut != NULL && !(trigger = gtk_shortcut_trigger_parse_string (release_shortcut)))
    {
      g_warning ("“%s” is not a valid shortcut; keeping “%s”", release_shortcut, self->release_shortcut);
      return;
    }

  g_clear_object (&self->release_trigger);
  self->release_trigger = trigger;
  g_free (self->release_shortcut);
  self->release_shortcut = g_strdup (release_shortcut);
  casement_display_update_grab_hint (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RELEASE_SHORTCUT]);
}

gboolean
casement_display_get_keyboard_grabbed (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  return self->keyboard_grabbed;
}

void
casement_display_release_keyboard (CasementDisplay *self)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  /* Stay released until the next click, even when the pointer comes back. */
  self->grab_released = TRUE;
  casement_display_release_keys (self);
  casement_display_ungrab_keyboard (self);
}

gboolean
casement_display_get_clipboard_sharing (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  return self->clipboard_sharing;
}

void
casement_display_set_clipboard_sharing (CasementDisplay *self,
                                        gboolean         clipboard_sharing)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  clipboard_sharing = !!clipboard_sharing;
  if (self->clipboard_sharing == clipboard_sharing)
    return;

  if (!clipboard_sharing)
    casement_display_release_guest_clipboard (self);

  self->clipboard_sharing = clipboard_sharing;

  if (clipboard_sharing)
    {
      for (guint i = 0; i < G_N_ELEMENTS (self->clipboards); i++)
        casement_display_offer_clipboard (self, i);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIPBOARD_SHARING]);
}

gboolean
casement_display_get_audio (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  return self->audio;
}

void
casement_display_set_audio (CasementDisplay *self,
                            gboolean         audio)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  audio = !!audio;
  if (self->audio == audio)
    return;

  self->audio = audio;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUDIO]);
}

/**
 * casement_display_set_covered:
 * @self: a #CasementDisplay
 * @covered: whether something of the window is drawn over the display
 *
 * On X11 without GL the guest's frame can live in an X window of its own,
 * above anything GTK draws in that place; the window tells the display
 * when it shows something over it (a toast, a revealed header bar), and
 * the frame goes through GTK meanwhile.
 */
void
casement_display_set_covered (CasementDisplay *self,
                              gboolean         covered)
{
  g_return_if_fail (CASEMENT_IS_DISPLAY (self));

  self->covered = !!covered;
  casement_display_sync_presenter (self);
}

/**
 * casement_display_get_presenting:
 * @self: a #CasementDisplay
 *
 * Returns: %TRUE while frames go straight to the X server, bypassing
 * GTK's renderer (for tests and benchmarks).
 */
gboolean
casement_display_get_presenting (CasementDisplay *self)
{
  g_return_val_if_fail (CASEMENT_IS_DISPLAY (self), FALSE);

  return self->presenter != NULL && casement_x11_presenter_is_shown (self->presenter);
}
