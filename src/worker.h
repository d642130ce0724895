/*
 * worker: one FastCGI worker process.  It accepts requests on the listen
 * socket it inherited from the master, one at a time, and answers each;
 * the credential steps go to the auth processes over the queue it also
 * inherited (src/privsep/privsep.h).
 */
#ifndef FINICOM_WORKER_H
#define FINICOM_WORKER_H

#include "util/config.h"

/*
 * Serve requests until SIGTERM: the request in flight is finished, then the
 * worker exits.  auth_queue_fd is the workers' end of the auth processes'
 * queue.  Returns the process exit status.
 */
int worker_run(const struct config *cfg, int listen_fd, int auth_queue_fd);

#endif
