// SPDX-License-Identifier: GPL-2.0
/*
 * The TX queue: what writers gave a node and the backend has not pushed to
 * the port yet, in chunks of our own: 64 KiB compound pages, or single
 * pages when memory is too fragmented for those. Small writes share a
 * chunk, so a push moves many of them as one large element, and a chunk is
 * physically contiguous: QEMU writes each contiguous piece of an element
 * to the host with one system call, so a 64 KiB chunk costs one where
 * sixteen single pages cost sixteen.
 *
 * Writers append to the tail page; one writer at a time (the node's
 * tx_lock), and it copies outside the queue's lock, into bytes nobody else
 * looks at yet. The backend takes references to queued pages and lets the
 * device read them in place. Once every byte of a chunk is pushed the
 * queue keeps it as a spare, up to TXQ_SPARES, and fills it again when the
 * device has dropped its references; it lets go of the others. Bytes
 * already pushed are never written again, so the tail page may be in the
 * device's hands and still take more bytes after them.
 */

#include "vportx.h"

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pipe_fs_i.h>
#include <linux/sizes.h>
#include <linux/splice.h>
#include <linux/uio.h>

void vportx_txq_init(struct vportx_txq *q, u32 limit, u32 low)
{
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->pages);
	INIT_LIST_HEAD(&q->spare);
	q->limit = limit;
	q->low = low;
}

/* Chunks are compound pages of this order when the allocator has them. */
#define TXQ_CHUNK_ORDER get_order(SZ_64K)
/* Pushed chunks kept for reuse: what a push in the device's hands needs. */
#define TXQ_SPARES 4

static size_t page_fill(struct page *page)
{
	return page_private(page);
}

/*
 * A spare the device is done with: nobody but the queue holds it. The
 * device's last put_page() is ordered before anything we write into it.
 */
static struct page *spare_take(struct vportx_txq *q)
{
	struct page *page;

	spin_lock(&q->lock);
	list_for_each_entry(page, &q->spare, lru) {
		if (page_ref_count(page) != 1)
			continue;
		/* Refill only after the device's last put_page(). */
		smp_acquire__after_ctrl_dep();
		list_del(&page->lru);
		q->spares--;
		q->pages_held -= compound_nr(page);
		spin_unlock(&q->lock);
		return page;
	}
	spin_unlock(&q->lock);
	return NULL;
}

/*
 * A spare chunk the device has let go of, or a new one. Reusing saves
 * more than the allocator: the kernel zeroes every new page
 * (init_on_alloc, on in Debian's kernels), which costs as much again as
 * copying the bytes in.
 */
static struct page *chunk_alloc(struct vportx_txq *q)
{
	struct page *page = spare_take(q);

	if (page)
		return page;
	page = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_COMP | __GFP_NOWARN |
			   __GFP_NORETRY, TXQ_CHUNK_ORDER);
	return page ? page : alloc_page(GFP_KERNEL_ACCOUNT);
}

static struct page *tail_page(struct vportx_txq *q)
{
	if (list_empty(&q->pages))
		return NULL;
	return list_last_entry(&q->pages, struct page, lru);
}

static void free_pages_list(struct list_head *pages)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, pages, lru)
		put_page(page);
}

/* A writer can add at least one byte. */
bool vportx_txq_writable(struct vportx_txq *q)
{
	return !READ_ONCE(q->full) &&
	       READ_ONCE(q->queued) < READ_ONCE(q->limit);
}

/* Bytes a writer may add: none while the queue is at or above its limit. */
static size_t txq_room(struct vportx_txq *q)
{
	lockdep_assert_held(&q->lock);
	return q->queued < q->limit ? q->limit - q->queued : 0;
}

/*
 * New limits, from sysfs, with writers at work. They start afresh: a
 * queue at or above its new limit takes nothing more until it drains to
 * the new low watermark, one below it takes writes at once. Returns true
 * when a full queue just became writable again.
 */
bool vportx_txq_set_limits(struct vportx_txq *q, u32 limit, u32 low)
{
	bool writable;

	spin_lock(&q->lock);
	WRITE_ONCE(q->limit, limit);
	WRITE_ONCE(q->low, low);
	writable = q->full && txq_room(q);
	q->full = !txq_room(q);
	spin_unlock(&q->lock);
	return writable;
}

/*
 * The page the next bytes go to, with room in it: the tail page, or @fresh
 * added as the new tail. NULL if that takes @fresh and there is none.
 */
static struct page *room_page(struct vportx_txq *q, struct page **fresh)
{
	struct page *page = tail_page(q);

	lockdep_assert_held(&q->lock);
	if (page && page_fill(page) < page_size(page))
		return page;
	page = *fresh;
	if (page) {
		set_page_private(page, 0);
		list_add_tail(&page->lru, &q->pages);
		q->pages_held += compound_nr(page);
		*fresh = NULL;
	}
	return page;
}

/*
 * Copy up to @want bytes into the tail page. Returns what it copied, 0 if
 * it needs a fresh page first, -EFAULT if @from faulted at once.
 */
static ssize_t fill_tail(struct vportx_txq *q, struct iov_iter *from,
			 size_t want, struct page **fresh)
{
	struct page *page = room_page(q, fresh);
	size_t fill, n;

	if (!page)
		return 0;
	fill = page_fill(page);
	want = min_t(size_t, want, page_size(page) - fill);
	q->filling = true;
	spin_unlock(&q->lock);
	n = copy_page_from_iter(page, fill, want, from);
	spin_lock(&q->lock);
	q->filling = false;
	set_page_private(page, fill + n);
	q->queued += n;
	return n ? n : -EFAULT;
}

/*
 * Copy from @from as much as the limit lets in. Returns the bytes taken,
 * 0 when the queue is full (it then stays unwritable until it drains to
 * the low watermark), or -ENOMEM or -EFAULT if nothing was taken.
 */
ssize_t vportx_txq_write(struct vportx_txq *q, struct iov_iter *from)
{
	struct page *fresh = NULL;
	ssize_t done = 0, n = 0;
	size_t want;

	spin_lock(&q->lock);
	while (iov_iter_count(from)) {
		want = min(iov_iter_count(from), txq_room(q));
		if (!want || q->full) {
			q->full = true;
			break;
		}
		n = fill_tail(q, from, want, &fresh);
		if (n < 0)
			break;
		done += n;
		if (n)
			continue;
		spin_unlock(&q->lock);
		fresh = chunk_alloc(q);
		spin_lock(&q->lock);
		if (!fresh) {
			n = -ENOMEM;
			break;
		}
	}
	/* Full: no POLLOUT until the queue is down to the low watermark. */
	if (!txq_room(q))
		q->full = true;
	spin_unlock(&q->lock);
	if (fresh)
		put_page(fresh);
	return done ? done : min_t(ssize_t, n, 0);
}

/*
 * Only the port's splice_write sees these buffers, and it only reads what
 * it steals: hand it the page (locked, as stealing wants) even though the
 * queue still holds its own reference and may fill the page's end later.
 */
static bool txq_buf_try_steal(struct pipe_inode_info *pipe,
			      struct pipe_buffer *buf)
{
	lock_page(buf->page);
	return true;
}

static const struct pipe_buf_operations txq_buf_ops = {
	.try_steal = txq_buf_try_steal,
	.release = generic_pipe_buf_release,
	.get = generic_pipe_buf_get,
};

/*
 * Add @len bytes of the chunk @page from @off to @pipe; false if the pipe
 * is full. The buffer starts in the subpage holding @off and may run on
 * into the next ones: the chunk is contiguous.
 */
static bool page_to_pipe(struct pipe_inode_info *pipe, struct page *page,
			 size_t off, size_t len)
{
	struct pipe_buffer buf = {
		.ops = &txq_buf_ops,
		.page = page + off / PAGE_SIZE,
		.offset = off % PAGE_SIZE,
		.len = len,
	};

	get_page(page);
	return add_to_pipe(pipe, &buf) > 0;
}

/*
 * Put queued bytes [@skip, @skip + @len) into @pipe, each as a reference
 * to the queue's page: the push in progress has taken the first @skip
 * already. Returns the bytes put in, fewer when the pipe fills up.
 */
ssize_t vportx_txq_to_pipe(struct vportx_txq *q, size_t skip,
			   struct pipe_inode_info *pipe, size_t len)
{
	size_t off, n, done = 0;
	struct page *page;

	spin_lock(&q->lock);
	off = q->head + skip;
	list_for_each_entry(page, &q->pages, lru) {
		if (done == len)
			break;
		if (off >= page_fill(page)) {
			off -= min_t(size_t, off, page_size(page));
			continue;
		}
		n = min(page_fill(page) - off, len - done);
		if (!page_to_pipe(pipe, page, off, n))
			break;
		done += n;
		off = 0;
	}
	spin_unlock(&q->lock);
	return done;
}

/*
 * The queued bytes from @skip past the first unpushed one, as far as they
 * run contiguously: their chunk in *@page, with a reference for the
 * caller, and their offset in it in *@off. Returns how many bytes that
 * is, 0 if none are queued there.
 */
size_t vportx_txq_piece(struct vportx_txq *q, size_t skip,
			struct page **page, size_t *off)
{
	size_t pos, n = 0;
	struct page *p;

	spin_lock(&q->lock);
	pos = q->head + skip;
	list_for_each_entry(p, &q->pages, lru) {
		if (pos < page_fill(p)) {
			n = page_fill(p) - pos;
			get_page(p);
			*page = p;
			*off = pos;
			break;
		}
		pos -= min_t(size_t, pos, page_size(p));
	}
	spin_unlock(&q->lock);
	return n;
}

/*
 * The backend pushed the first @n queued bytes: let go of the pages they
 * emptied, but keep a partly filled tail page for the bytes to come.
 * Returns true when a full queue just became writable again.
 */
bool vportx_txq_advance(struct vportx_txq *q, size_t n)
{
	struct page *page, *next;
	LIST_HEAD(done);
	bool writable;

	spin_lock(&q->lock);
	q->queued -= n;
	n += q->head;
	list_for_each_entry_safe(page, next, &q->pages, lru) {
		if (n < page_size(page))
			break;
		n -= page_size(page);
		if (q->spares < TXQ_SPARES) {
			list_move_tail(&page->lru, &q->spare);
			q->spares++;
			continue;
		}
		list_move_tail(&page->lru, &done);
		q->pages_held -= compound_nr(page);
	}
	q->head = n;
	writable = q->full && q->queued <= q->low;
	if (writable)
		q->full = false;
	spin_unlock(&q->lock);
	free_pages_list(&done);
	return writable;
}

/* Move every page the queue holds, spares too, to @pages. */
static void take_all(struct vportx_txq *q, struct list_head *pages)
{
	lockdep_assert_held(&q->lock);
	list_splice_init(&q->pages, pages);
	list_splice_init(&q->spare, pages);
	q->spares = 0;
	q->pages_held = 0;
	q->head = 0;
}

/*
 * Throw away everything queued, with no writer at work (the node is not
 * open); returns how many bytes that was.
 */
size_t vportx_txq_discard(struct vportx_txq *q)
{
	LIST_HEAD(pages);
	size_t dropped;

	spin_lock(&q->lock);
	take_all(q, &pages);
	dropped = q->queued;
	q->queued = 0;
	q->full = false;
	spin_unlock(&q->lock);
	free_pages_list(&pages);
	return dropped;
}

/* An empty queue gives its tail page back: idle ports cost no pages. */
void vportx_txq_trim(struct vportx_txq *q)
{
	LIST_HEAD(pages);

	spin_lock(&q->lock);
	if (!q->queued && !q->filling)
		take_all(q, &pages);
	spin_unlock(&q->lock);
	free_pages_list(&pages);
}
