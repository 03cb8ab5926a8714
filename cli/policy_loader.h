// The policies a server-side command decides with: a bundle, or policy
// sources compiled on each load, plus the `data` file.
#ifndef WARDEN_CLI_POLICY_LOADER_H_
#define WARDEN_CLI_POLICY_LOADER_H_

#include "runtime/server/config.h"
#include "runtime/server/policy_store.h"

namespace warden::cli {

// Reads config.policies (a bundle, or compiles the sources with
// config.stdlib) and config.data; failures carry the rendered diagnostics.
server::PolicyLoader MakePolicyLoader(const server::ServerConfig& config);

}  // namespace warden::cli

#endif  // WARDEN_CLI_POLICY_LOADER_H_
