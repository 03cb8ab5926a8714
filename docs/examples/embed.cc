// Deciding requests in-process with the embedding API (docs/embedding.md).
// Usage: embed BUNDLE   — reads one JSON request per line on stdin.
#include <iostream>
#include <string>

#include "warden/engine.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: embed BUNDLE\n";
    return 2;
  }
  // Load and verify a bundle written by `warden compile -o`. Never throws.
  auto engine = warden::Engine::FromFile(argv[1]);
  if (!engine.ok()) {
    std::cerr << "cannot load " << argv[1] << ": " << engine.status() << "\n";
    return 2;
  }
  // One session per thread: it keeps the decoder and the request frame warm,
  // so steady-state decisions allocate nothing.
  warden::JsonSession session(**engine);
  warden::Decision decision;
  std::string line;
  while (std::getline(std::cin, line)) {
    bool decoded = (*engine)->DecideJson(line, session, &decision);
    std::cout << warden::rt::OutcomeName(decision.outcome);
    if (!decision.challenge.empty()) std::cout << " " << decision.challenge;
    for (const warden::DecidingRule& rule : decision.rules) {
      std::cout << " by " << rule.name << " (" << rule.file << ":" << rule.line << ")";
    }
    if (!decoded) {
      for (const auto& error : session.errors()) std::cout << " (bad request: " << error.message << ")";
    }
    std::cout << "\n";
  }
  return 0;
}
