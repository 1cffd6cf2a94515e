/* casement-x11-presenter.h
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

G_BEGIN_DECLS

#define CASEMENT_TYPE_X11_PRESENTER (casement_x11_presenter_get_type ())

G_DECLARE_FINAL_TYPE (CasementX11Presenter, casement_x11_presenter, CASEMENT, X11_PRESENTER, GObject)

/* Puts a guest frame on an X11 window without GTK's renderer: a child
 * window of @surface that the frame is sent to through MIT-SHM, shared in
 * place where possible. NULL where that cannot work (not X11, no MIT-SHM
 * or SHAPE, a visual unlike the guest's xRGB). The child takes no input:
 * pointer events fall through to @surface. */
CasementX11Presenter *casement_x11_presenter_new           (GdkSurface                  *surface);
/* Shows the @width × @height frame at @data at @area (device pixels of
 * the surface; the frame is shown 1:1, so @area is its size) and uploads
 * all of it. The X server may read @data directly until
 * casement_x11_presenter_release_frame(): call that before the memory is
 * freed or reused for another frame. */
void                  casement_x11_presenter_show          (CasementX11Presenter        *self,
                                                            const cairo_rectangle_int_t *area,
                                                            guint8                      *data,
                                                            int                          width,
                                                            int                          height,
                                                            int                          stride);
/* Uploads the @dirty part of the frame shown (frame coordinates) and
 * returns the number of pixels sent. */
guint64               casement_x11_presenter_update        (CasementX11Presenter        *self,
                                                            const guint8                *data,
                                                            int                          stride,
                                                            const cairo_region_t        *dirty);
void                  casement_x11_presenter_hide          (CasementX11Presenter        *self);
/* Hides the frame and lets go of its memory. */
void                  casement_x11_presenter_release_frame (CasementX11Presenter        *self);
gboolean              casement_x11_presenter_is_shown      (CasementX11Presenter        *self);
/* Whether updates copy the frame in our process (a mirror) rather than
 * the X server reading it where it is. */
gboolean              casement_x11_presenter_copies_frame  (CasementX11Presenter        *self);

G_END_DECLS
