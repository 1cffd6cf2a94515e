/* casement-x11-presenter.c
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

#define G_LOG_DOMAIN "casement-x11-presenter"

#include "config.h"

#include <errno.h>
#include <string.h>

#include "casement-x11-presenter.h"

#ifdef GDK_WINDOWING_X11
# include <gdk/x11/gdkx.h>
# include <sys/ipc.h>
# include <sys/mman.h>
# include <sys/shm.h>
# include <unistd.h>
# include <X11/Xlib.h>
# include <X11/extensions/shape.h>
# include <X11/extensions/XShm.h>
#endif

/* Why this exists: GTK 4.8's cairo renderer, used where GL is only a
 * software rasterizer, draws every frame into a freshly allocated image
 * and copies that into a fresh MIT-SHM segment before the X server sees
 * it: two copies and a page fault per 4 KiB of changed screen. A busy
 * guest screen then costs more CPU than spice-gtk under GTK 3.
 *
 * Here the X server reads the frame where spice-client-glib keeps it: the
 * whole memory pages inside the frame become a shared memory segment in
 * place (a segment filled with their contents, then shmat() with
 * SHM_REMAP over the same addresses), so a changed pixel costs our
 * process no copy at all, and the server copies it once, into the
 * window. The frame's first and last rows partly lie on pages it shares
 * with other memory; those few rows travel in the request itself. Before
 * the frame's memory is freed, casement_x11_presenter_release_frame()
 * puts private pages with the same contents back, so its owner's
 * allocator finds it as it left it. Where sharing cannot be done (a
 * stride unlike the width's, no SHM_REMAP, a server that cannot attach
 * the segment), the frame is copied into a mirror segment instead: one
 * copy per changed pixel. Exposes (other windows moving away) are
 * repainted the same way. */

struct _CasementX11Presenter
{
  GObject               parent_instance;

#ifdef GDK_WINDOWING_X11
  GdkDisplay           *display;
  Display              *xdisplay;
  Visual               *visual;
  int                   depth;
  Window                window;
  GC                    gc;
  XImage               *image;          /* the frame's rows in shm: a mirror, or
                                         * the frame itself (shared_data) */
  XShmSegmentInfo       shm;
  /* When the frame's own pages are shared: rows [shared_first_row,
   * shared_end_row) lie wholly inside them, the others are sent from
   * edge_image, which is the whole frame outside shm. */
  guint8               *shared_data;
  gsize                 shared_length;
  int                   shared_first_row;
  int                   shared_end_row;
  XImage               *edge_image;
#endif

  cairo_rectangle_int_t area;
  int                   frame_width;
  int                   frame_height;
  gboolean              shown;
};

G_DEFINE_FINAL_TYPE (CasementX11Presenter, casement_x11_presenter, G_TYPE_OBJECT)

#ifdef GDK_WINDOWING_X11

/* Our XImages never own their pixels. */
static void
casement_x11_presenter_clear_image (XImage **image)
{
  if (*image != NULL)
    {
      (*image)->data = NULL;
      XDestroyImage (*image);
      *image = NULL;
    }
}

/* Gives the frame's shared pages back as private ones with the same
 * contents, in one step (mremap over them), so no other thread's mapping
 * can land in between. */
static void
casement_x11_presenter_unshare_pages (CasementX11Presenter *self)
{
  void *copy;

  g_assert (CASEMENT_IS_X11_PRESENTER (self));
  g_assert (self->shared_data != NULL);

  copy = mmap (NULL, self->shared_length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (copy == MAP_FAILED)
    {
      /* Left shared, the pages still hold the frame: only the segment
       * outlives its use. */
      g_warning ("Cannot give the guest frame's memory back: %s", g_strerror (errno));
      return;
    }

  memcpy (copy, self->shm.shmaddr, self->shared_length);
  if (mremap (copy, self->shared_length, self->shared_length,
              MREMAP_MAYMOVE | MREMAP_FIXED, self->shm.shmaddr) == MAP_FAILED)
    {
      g_warning ("Cannot give the guest frame's memory back: %s", g_strerror (errno));
      munmap (copy, self->shared_length);
    }
}

static gboolean
casement_x11_presenter_image_is_xrgb (XImage *image)
{
  /* The guest's xRGB bytes go in unchanged, or not at all. */
  if (image->bits_per_pixel != 32 ||
      (image->byte_order == LSBFirst) != (G_BYTE_ORDER == G_LITTLE_ENDIAN))
    {
      g_debug ("The X server's 24-bit images are not xRGB words in our byte order");
      return FALSE;
    }

  return TRUE;
}

/* Attaches self->shm to the server. A server on another machine accepts
 * the request and fails it later, hence the round trip. */
static gboolean
casement_x11_presenter_attach (CasementX11Presenter *self)
{
  g_assert (CASEMENT_IS_X11_PRESENTER (self));

  gdk_x11_display_error_trap_push (self->display);
  XShmAttach (self->xdisplay, &self->shm);
  XSync (self->xdisplay, False);
  if (gdk_x11_display_error_trap_pop (self->display) != 0)
    {
      g_debug ("The X server cannot attach our shared memory");
      return FALSE;
    }

  /* Both sides are attached: the segment now goes away with the last of
   * them, even if we crash. */
  shmctl (self->shm.shmid, IPC_RMID, NULL);

  return TRUE;
}

/* Shares the whole pages inside the frame at @data with the server, in
 * place (see the top of this file). */
static gboolean
casement_x11_presenter_share_frame (CasementX11Presenter *self,
                                    guint8               *data,
                                    int                   width,
                                    int                   height,
                                    int                   stride)
{
  guintptr page = (guintptr) sysconf (_SC_PAGESIZE);
  guintptr start = ((guintptr) data + page - 1) & ~(page - 1);
  guintptr end = ((guintptr) data + (gsize) stride * height) & ~(page - 1);
  void *copy;
  int shmid;

  g_assert (CASEMENT_IS_X11_PRESENTER (self));
  g_assert (self->image == NULL);

  /* MIT-SHM images know no stride but their width's. */
  if (stride != width * 4 || end <= start)
    return FALSE;

  self->shared_first_row = (int) ((start - (guintptr) data + stride - 1) / stride);
  self->shared_end_row = (int) ((end - (guintptr) data) / stride);
  if (self->shared_end_row <= self->shared_first_row)
    return FALSE;

  shmid = shmget (IPC_PRIVATE, end - start, IPC_CREAT | 0600);
  if (shmid < 0)
    {
      g_debug ("No shared memory for the frame: %s", g_strerror (errno));
      return FALSE;
    }

  /* Fill the segment, then swap it in for the pages it copies. The frame
   * only changes on this thread (spice-client-glib draws in the main
   * context), so nothing is lost in between. */
  copy = shmat (shmid, NULL, 0);
  if (copy == (void *) -1)
    {
      shmctl (shmid, IPC_RMID, NULL);
      return FALSE;
    }
  memcpy (copy, (void *) start, end - start);
  if (shmat (shmid, (void *) start, SHM_REMAP) == (void *) -1)
    {
      g_debug ("Cannot share the frame's pages: %s", g_strerror (errno));
      shmdt (copy);
      shmctl (shmid, IPC_RMID, NULL);
      return FALSE;
    }
  shmdt (copy);

  self->shared_data = data;
  self->shared_length = end - start;
  self->shm.shmid = shmid;
  self->shm.shmaddr = (char *) start;
  self->shm.readOnly = True;

  self->image = XShmCreateImage (self->xdisplay, self->visual, self->depth, ZPixmap,
                                 (char *) data + (gsize) self->shared_first_row * stride, &self->shm,
                                 width, self->shared_end_row - self->shared_first_row);
  self->edge_image = XCreateImage (self->xdisplay, self->visual, self->depth, ZPixmap, 0,
                                   (char *) data, width, height, 32, stride);
  if (self->image == NULL || self->edge_image == NULL ||
      !casement_x11_presenter_image_is_xrgb (self->image) ||
      !casement_x11_presenter_image_is_xrgb (self->edge_image) ||
      !casement_x11_presenter_attach (self))
    {
      casement_x11_presenter_unshare_pages (self);
      shmctl (shmid, IPC_RMID, NULL);
      casement_x11_presenter_clear_image (&self->image);
      casement_x11_presenter_clear_image (&self->edge_image);
      self->shared_data = NULL;
      return FALSE;
    }

  self->frame_width = width;
  self->frame_height = height;

  return TRUE;
}

static void
casement_x11_presenter_free_frame (CasementX11Presenter *self)
{
  g_assert (CASEMENT_IS_X11_PRESENTER (self));

  if (self->image != NULL)
    {
      XShmDetach (self->xdisplay, &self->shm);
      /* The server must let go of the segment before it is unmapped. */
      XSync (self->xdisplay, False);
      if (self->shared_data != NULL)
        casement_x11_presenter_unshare_pages (self);
      else
        shmdt (self->shm.shmaddr);
    }

  casement_x11_presenter_clear_image (&self->image);
  casement_x11_presenter_clear_image (&self->edge_image);

  self->shared_data = NULL;
  self->frame_width = self->frame_height = 0;
}

/* A mirror of the frame in a segment of our own. */
static gboolean
casement_x11_presenter_alloc_frame (CasementX11Presenter *self,
                                    int                   width,
                                    int                   height)
{
  g_assert (CASEMENT_IS_X11_PRESENTER (self));
  g_assert (self->image == NULL);

  self->image = XShmCreateImage (self->xdisplay, self->visual, self->depth, ZPixmap,
                                 NULL, &self->shm, width, height);
  if (self->image == NULL)
    return FALSE;

  if (!casement_x11_presenter_image_is_xrgb (self->image))
    {
      casement_x11_presenter_clear_image (&self->image);
      return FALSE;
    }

  self->shm.shmid = shmget (IPC_PRIVATE, (size_t) self->image->bytes_per_line * height, IPC_CREAT | 0600);
  if (self->shm.shmid < 0)
    {
      g_debug ("No shared memory for the frame: %s", g_strerror (errno));
      casement_x11_presenter_clear_image (&self->image);
      return FALSE;
    }

  self->shm.shmaddr = self->image->data = shmat (self->shm.shmid, NULL, 0);
  self->shm.readOnly = False;
  if (self->shm.shmaddr == (char *) -1 || !casement_x11_presenter_attach (self))
    {
      shmctl (self->shm.shmid, IPC_RMID, NULL);
      if (self->shm.shmaddr != (char *) -1)
        shmdt (self->shm.shmaddr);
      casement_x11_presenter_clear_image (&self->image);
      return FALSE;
    }

  self->frame_width = width;
  self->frame_height = height;

  return TRUE;
}

/* Sends a rectangle of the frame into the window: from the segment, and
 * when the frame is shared, its rows outside the segment in the request. */
static void
casement_x11_presenter_put (CasementX11Presenter        *self,
                            const cairo_rectangle_int_t *rect)
{
  int top = rect->y, bottom = rect->y + rect->height;
  int shm_top, shm_bottom;

  if (self->shared_data == NULL)
    {
      XShmPutImage (self->xdisplay, self->window, self->gc, self->image,
                    rect->x, rect->y, rect->x, rect->y, rect->width, rect->height, False);
      return;
    }

  shm_top = MAX (top, self->shared_first_row);
  shm_bottom = MIN (bottom, self->shared_end_row);

  if (top < MIN (bottom, self->shared_first_row))
    XPutImage (self->xdisplay, self->window, self->gc, self->edge_image,
               rect->x, top, rect->x, top, rect->width, MIN (bottom, self->shared_first_row) - top);
  if (shm_top < shm_bottom)
    XShmPutImage (self->xdisplay, self->window, self->gc, self->image,
                  rect->x, shm_top - self->shared_first_row, rect->x, shm_top,
                  rect->width, shm_bottom - shm_top, False);
  if (MAX (top, self->shared_end_row) < bottom)
    XPutImage (self->xdisplay, self->window, self->gc, self->edge_image,
               rect->x, MAX (top, self->shared_end_row), rect->x, MAX (top, self->shared_end_row),
               rect->width, bottom - MAX (top, self->shared_end_row));
}

static gboolean
casement_x11_presenter_xevent (GdkX11Display        *display,
                               const XEvent         *event,
                               CasementX11Presenter *self)
{
  cairo_rectangle_int_t rect;

  if (event->type != Expose || event->xexpose.window != self->window)
    return GDK_EVENT_PROPAGATE;

  rect = (cairo_rectangle_int_t) { event->xexpose.x, event->xexpose.y,
                                   event->xexpose.width, event->xexpose.height };
  if (self->shown && self->image != NULL &&
      gdk_rectangle_intersect (&rect, &(GdkRectangle) { 0, 0, self->frame_width, self->frame_height }, &rect))
    {
      casement_x11_presenter_put (self, &rect);
      if (event->xexpose.count == 0)
        XFlush (self->xdisplay);
    }

  return GDK_EVENT_STOP;
}

#endif /* GDK_WINDOWING_X11 */

CasementX11Presenter *
casement_x11_presenter_new (GdkSurface *surface)
{
#ifdef GDK_WINDOWING_X11
  g_autoptr(CasementX11Presenter) self = NULL;
  XSetWindowAttributes attributes = { 0 };
  GdkDisplay *display;
  Display *xdisplay;
  int screen, shape_event, shape_error;

  g_return_val_if_fail (GDK_IS_SURFACE (surface), NULL);

  display = gdk_surface_get_display (surface);
  if (!GDK_IS_X11_DISPLAY (display))
    return NULL;

  xdisplay = gdk_x11_display_get_xdisplay (display);
  screen = DefaultScreen (xdisplay);
  if (!XShmQueryExtension (xdisplay) ||
      !XShapeQueryExtension (xdisplay, &shape_event, &shape_error))
    {
      g_debug ("The X server lacks MIT-SHM or SHAPE");
      return NULL;
    }

  if (DefaultDepth (xdisplay, screen) != 24 ||
      DefaultVisual (xdisplay, screen)->red_mask != 0xff0000 ||
      DefaultVisual (xdisplay, screen)->green_mask != 0x00ff00 ||
      DefaultVisual (xdisplay, screen)->blue_mask != 0x0000ff)
    {
      g_debug ("The X server's default visual is not 24-bit xRGB");
      return NULL;
    }

  self = g_object_new (CASEMENT_TYPE_X11_PRESENTER, NULL);
  self->display = g_object_ref (display);
  self->xdisplay = xdisplay;
  self->visual = DefaultVisual (xdisplay, screen);
  self->depth = 24;

  /* The default visual, not the toplevel's: under a compositor that one
   * has alpha, and the guest's fourth byte is not meant as alpha. A
   * visual of its own needs its own colormap and border. No background:
   * the server would clear to it before every expose we repaint anyway. */
  attributes.background_pixmap = None;
  attributes.border_pixel = BlackPixel (xdisplay, screen);
  attributes.colormap = DefaultColormap (xdisplay, screen);
  attributes.event_mask = ExposureMask;
  gdk_x11_display_error_trap_push (display);
  self->window = XCreateWindow (xdisplay, gdk_x11_surface_get_xid (surface),
                                0, 0, 1, 1, 0, self->depth, InputOutput, self->visual,
                                CWBackPixmap | CWBorderPixel | CWColormap | CWEventMask, &attributes);
  self->gc = XCreateGC (xdisplay, self->window, 0, NULL);
  /* An empty input shape: pointer events and crossings belong to GTK's
   * window underneath, as if this one were not there. */
  XShapeCombineRectangles (xdisplay, self->window, ShapeInput, 0, 0, NULL, 0, ShapeSet, Unsorted);
  XSync (xdisplay, False);
  if (gdk_x11_display_error_trap_pop (display) != 0)
    {
      g_debug ("Cannot make a child window for the frame");
      self->window = None;
      self->gc = NULL;
      return NULL;
    }

  /* GDK reads the connection; our window's exposes come through here. */
  g_signal_connect_object (display, "xevent",
                           G_CALLBACK (casement_x11_presenter_xevent), self, 0);

  return g_steal_pointer (&self);
#else
  return NULL;
#endif
}

gboolean
casement_x11_presenter_is_shown (CasementX11Presenter *self)
{
  g_return_val_if_fail (CASEMENT_IS_X11_PRESENTER (self), FALSE);

  return self->shown;
}

guint64
casement_x11_presenter_update (CasementX11Presenter *self,
                               const guint8         *data,
                               int                   stride,
                               const cairo_region_t *dirty)
{
  guint64 sent = 0;
#ifdef GDK_WINDOWING_X11
  int n_rects;

  g_return_val_if_fail (CASEMENT_IS_X11_PRESENTER (self), 0);
  g_return_val_if_fail (data != NULL, 0);
  g_return_val_if_fail (dirty != NULL, 0);

  if (!self->shown || self->image == NULL)
    return 0;

  /* No wait for the server between frames: the segment is or mirrors the
   * frame, so a rectangle the server reads late shows newer pixels, which
   * are dirty again and will be sent again. */
  n_rects = cairo_region_num_rectangles (dirty);
  for (int i = 0; i < n_rects; i++)
    {
      cairo_rectangle_int_t rect;

      cairo_region_get_rectangle (dirty, i, &rect);
      if (!gdk_rectangle_intersect (&rect,
                                    &(GdkRectangle) { 0, 0, self->frame_width, self->frame_height },
                                    &rect))
        continue;

      if (self->shared_data == NULL)
        for (int row = rect.y; row < rect.y + rect.height; row++)
          memcpy (self->image->data + (gsize) row * self->image->bytes_per_line + (gsize) rect.x * 4,
                  data + (gsize) row * stride + (gsize) rect.x * 4,
                  (gsize) rect.width * 4);

      casement_x11_presenter_put (self, &rect);
      sent += (guint64) rect.width * rect.height;
    }

  XFlush (self->xdisplay);
#endif

  return sent;
}

void
casement_x11_presenter_show (CasementX11Presenter        *self,
                             const cairo_rectangle_int_t *area,
                             guint8                      *data,
                             int                          width,
                             int                          height,
                             int                          stride)
{
#ifdef GDK_WINDOWING_X11
  gboolean upload_all = !self->shown;

  g_return_if_fail (CASEMENT_IS_X11_PRESENTER (self));
  g_return_if_fail (area != NULL);
  g_return_if_fail (data != NULL);

  if (self->shared_data != NULL && data != self->shared_data)
    {
      /* Its pages may belong to someone else by now: leave them be. */
      g_critical ("A new frame came without casement_x11_presenter_release_frame() for the last one");
      XShmDetach (self->xdisplay, &self->shm);
      self->shared_data = NULL;
      casement_x11_presenter_clear_image (&self->image);
      casement_x11_presenter_clear_image (&self->edge_image);
      self->frame_width = self->frame_height = 0;
    }

  if (width != self->frame_width || height != self->frame_height)
    {
      casement_x11_presenter_free_frame (self);
      if (!(g_strcmp0 (g_getenv ("CASEMENT_DISPLAY_X11_SHARE"), "0") != 0 &&
            casement_x11_presenter_share_frame (self, data, width, height, stride)) &&
          !casement_x11_presenter_alloc_frame (self, width, height))
        {
          casement_x11_presenter_hide (self);
          return;
        }
      g_debug ("%s the %d×%d frame", self->shared_data != NULL ? "Sharing" : "Mirroring", width, height);
      upload_all = TRUE;
    }

  if (!gdk_rectangle_equal (area, &self->area))
    {
      XMoveResizeWindow (self->xdisplay, self->window, area->x, area->y, area->width, area->height);
      self->area = *area;
    }

  if (upload_all)
    {
      cairo_region_t *all = cairo_region_create_rectangle (&(cairo_rectangle_int_t) { 0, 0, width, height });

      self->shown = TRUE;
      casement_x11_presenter_update (self, data, stride, all);
      cairo_region_destroy (all);
    }

  XMapWindow (self->xdisplay, self->window);
  XFlush (self->xdisplay);
#endif
}

void
casement_x11_presenter_release_frame (CasementX11Presenter *self)
{
  g_return_if_fail (CASEMENT_IS_X11_PRESENTER (self));

  casement_x11_presenter_hide (self);
#ifdef GDK_WINDOWING_X11
  casement_x11_presenter_free_frame (self);
#endif
}

gboolean
casement_x11_presenter_copies_frame (CasementX11Presenter *self)
{
  g_return_val_if_fail (CASEMENT_IS_X11_PRESENTER (self), FALSE);

#ifdef GDK_WINDOWING_X11
  return self->shared_data == NULL;
#else
  return TRUE;
#endif
}

void
casement_x11_presenter_hide (CasementX11Presenter *self)
{
  g_return_if_fail (CASEMENT_IS_X11_PRESENTER (self));

#ifdef GDK_WINDOWING_X11
  if (self->shown)
    {
      XUnmapWindow (self->xdisplay, self->window);
      XFlush (self->xdisplay);
    }
#endif

  self->shown = FALSE;
}

static void
casement_x11_presenter_finalize (GObject *object)
{
#ifdef GDK_WINDOWING_X11
  CasementX11Presenter *self = (CasementX11Presenter *)object;

  if (self->window != None)
    {
      /* The toplevel may already be gone, and our window with it. */
      gdk_x11_display_error_trap_push (self->display);
      casement_x11_presenter_free_frame (self);
      if (self->gc != NULL)
        XFreeGC (self->xdisplay, self->gc);
      XDestroyWindow (self->xdisplay, self->window);
      XSync (self->xdisplay, False);
      gdk_x11_display_error_trap_pop_ignored (self->display);
    }

  g_clear_object (&self->display);
#endif

  G_OBJECT_CLASS (casement_x11_presenter_parent_class)->finalize (object);
}

static void
casement_x11_presenter_class_init (CasementX11PresenterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = casement_x11_presenter_finalize;
}

static void
casement_x11_presenter_init (CasementX11Presenter *self)
{
}
