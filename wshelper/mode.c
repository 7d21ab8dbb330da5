/* mode: the table of modes a call can run, looked up by name ([ws] mode, --mode, or the
 * start message's customParameters "mode"). Add a mode here when it gets its own file. */
#include "mode.h"

#include <string.h>

static const struct mode_ops *const modes[] = {
	&mode_echo,
	&mode_agent,
	NULL,
};

const struct mode_ops *mode_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; modes[i]; i++)
		if (strcmp(modes[i]->name, name) == 0)
			return modes[i];
	return NULL;
}

const struct mode_ops *const *mode_list(void)
{
	return modes;
}

void mode_wake_all(struct call_env *env)
{
	size_t i;

	for (i = 0; modes[i]; i++)
		if (modes[i]->on_wake)
			modes[i]->on_wake(env);
}

void mode_shutdown_all(void)
{
	size_t i;

	for (i = 0; modes[i]; i++)
		if (modes[i]->shutdown)
			modes[i]->shutdown();
}
