/* test_ratelimit: the token bucket on a fake clock: a burst of RATE, refill at RATE per
 * second capped at RATE, the first drop of a run flagged once, the count handed over with
 * the next line let through, and rate 0 meaning no limit. */
#include "check.h"
#include "ratelimit.h"

#define MS 1000000LL

int main(void)
{
	struct ratelimit rl = RATELIMIT_INIT(20);
	unsigned long s = 99, flagged = 0;
	int i, passed = 0;
	int64_t t = 1000 * MS;

	for (i = 0; i < 25; i++) {
		int ok = ratelimit_take_at(&rl, t, &s);

		passed += ok;
		if (!ok)
			flagged += s;
	}
	CHECK_MSG(passed == 20 && flagged == 1, "a burst of 25: 20 through, one drop flagged");
	/* 50 ms later: one token back (20/s), and it carries the 5 dropped. */
	CHECK(ratelimit_take_at(&rl, t + 50 * MS, &s) == 1 && s == 5);
	CHECK(ratelimit_take_at(&rl, t + 50 * MS, &s) == 0 && s == 1);   /* a new run */
	CHECK(ratelimit_take_at(&rl, t + 51 * MS, &s) == 0 && s == 0);
	/* A long quiet spell refills to the bucket's size only. */
	t += 3600 * 1000 * MS;
	for (passed = 0, i = 0; i < 30; i++)
		passed += ratelimit_take_at(&rl, t, &s);
	CHECK_MSG(passed == 20, "after an hour: still a burst of 20, not 72,000");
	/* A clock going backwards does not mint tokens. */
	CHECK(ratelimit_take_at(&rl, t - 10 * 1000 * MS, &s) == 0);
	rl.rate = 0;
	CHECK_MSG(ratelimit_take_at(&rl, t, &s) == 1 && s == 0, "rate 0: no limit");
	return check_done();
}
