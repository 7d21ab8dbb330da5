/* test_bytebuf: the capped byte buffer: appends keep every byte in order across growth, the
 * cap is exact (E2BIG, nothing changed), consume keeps the tail, take hands the data over;
 * the fixed mode stays in the caller's array and remembers a cut. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "check.h"

static void test_grow_and_order(void)
{
	struct bytebuf b;
	uint8_t piece[97];
	size_t i, bad = 0;

	bytebuf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++) {
		size_t k;

		for (k = 0; k < sizeof(piece); k++)
			piece[k] = (uint8_t)(i * sizeof(piece) + k);
		if (bytebuf_add(&b, piece, sizeof(piece)) < 0)
			bad++;
	}
	CHECK(bad == 0);
	CHECK(b.len == 97000 && b.cap >= b.len && b.cap <= 2 * b.len);
	for (i = 0; i < b.len; i++)
		if (b.data[i] != (uint8_t)i)
			bad++;
	CHECK_MSG(bad == 0, "97,000 bytes appended in pieces read back in order");
	bytebuf_consume(&b, 96990);
	CHECK(b.len == 10 && b.data[0] == (uint8_t)96990 && b.data[9] == (uint8_t)96999);
	bytebuf_consume(&b, 100);
	CHECK(b.len == 0);
	CHECK(bytebuf_add(&b, "", 0) == 0 && b.len == 0);
	bytebuf_free(&b);
	CHECK(b.data == NULL && b.len == 0);
}

static void test_cap(void)
{
	struct bytebuf b;
	uint8_t *p;
	size_t len;

	bytebuf_init(&b, 10000);
	CHECK(bytebuf_extend(&b, 9999) != NULL && b.len == 9999);
	CHECK(b.cap == 10000);   /* growth stops at the cap, never past it */
	errno = 0;
	CHECK(bytebuf_add(&b, "ab", 2) == -1 && errno == E2BIG);
	CHECK(b.len == 9999);    /* nothing added by a failed append */
	CHECK(bytebuf_add(&b, "a", 1) == 0 && b.len == 10000);
	CHECK(bytebuf_extend(&b, 1) == NULL);
	CHECK(bytebuf_extend(&b, (size_t)-1) == NULL && b.len == 10000);   /* no overflow */
	p = bytebuf_take(&b, &len);
	CHECK(p != NULL && len == 10000 && p[9999] == 'a');
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
	free(p);
	CHECK(bytebuf_take(&b, &len) == NULL && len == 0);
}

static void test_fixed(void)
{
	char mem[16 + 4];
	struct bytebuf b;
	size_t len;

	memset(mem, 'Z', sizeof(mem));
	bytebuf_init_fixed(&b, mem, 16);
	CHECK(bytebuf_puts(&b, "hello") == 0 && bytebuf_putc(&b, ' ') == 0);
	CHECK(bytebuf_printf(&b, "%d-%s", 42, "ab") == 0 && b.len == 11 && !b.cut);
	CHECK(b.data == (uint8_t *)mem);
	errno = 0;
	/* does not fit: nothing added, E2BIG, and the cut remembered */
	CHECK(bytebuf_printf(&b, "%s", "123456") == -1 && errno == E2BIG && b.len == 11 && b.cut);
	CHECK(bytebuf_puts(&b, "12345") == 0 && b.len == 16 && bytebuf_room(&b) == 0);
	CHECK(bytebuf_putc(&b, 'x') == -1 && b.len == 16);
	CHECK(mem[16] == 'Z');   /* never past the array */
	/* cstr on a full array gives up the last byte for the NUL */
	CHECK_STR(bytebuf_cstr(&b), "hello 42-ab1234");
	CHECK(b.data == (uint8_t *)mem);   /* never reallocated */
	/* a long printf (past the small stack buffer) into a big enough array */
	{
		char big[600];
		struct bytebuf g;

		bytebuf_init_fixed(&g, big, sizeof(big));
		CHECK(bytebuf_printf(&g, "%500s|", "x") == 0 && g.len == 501 && big[500] == '|');
	}
	CHECK(bytebuf_take(&b, &len) == NULL && len == 0 && b.len == 0);
	bytebuf_free(&b);   /* must not free the caller's array */
	CHECK(b.data == (uint8_t *)mem);
}

int main(void)
{
	test_grow_and_order();
	test_cap();
	test_fixed();
	return check_done();
}
