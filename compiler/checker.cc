// The checker's declaration passes; expressions are in
// internal/expression_checker.cc. See checker.h for the order of passes.
#include "compiler/checker.h"

#include <algorithm>
#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "compiler/internal/builtin_schema.h"
#include "compiler/internal/checker_state.h"
#include "runtime/bytecode/program.h"
#include "runtime/values/duration.h"
#include "runtime/values/ip.h"
#include "runtime/values/timestamp.h"

namespace warden {
namespace {

using internal::CheckerState;
using internal::DidYouMean;
using internal::PackageInfo;
using internal::Scope;

constexpr const char* kBuiltinChallenges[] = {"mfa", "reauth", "approval"};
constexpr const char* kJitRequirements[] = {"mfa", "reason", "ticket"};

class DeclarationChecker {
 public:
  DeclarationChecker(CheckerState& state, const std::vector<const ast::File*>& files)
      : state_(state), program_(state.program), files_(files) {}

  void Run() {
    CollectPackages();
    internal::BuildBuiltinSchema(program_);
    state_.limit_record = program_.types.NewRecord("limit");
    BuildSchema();
    NumberAttributes();
    CollectSymbols();
    CheckRoles();
    CheckJitProfiles();
    CheckRiskAndLimits();
    CheckPolicies();
    CheckTests();
  }

 private:
  template <typename F>
  void ForEachDecl(ast::Declaration::Kind kind, F visit) {
    for (const ast::File* file : files_) {
      PackageInfo& package = state_.packages.at(file->package.ToString());
      for (const ast::Declaration& decl : file->declarations) {
        if (decl.kind == kind) visit(decl, package);
      }
    }
  }

  // ---------------------------------------------------------------- packages

  void CollectPackages() {
    for (const ast::File* file : files_) {
      PackageInfo& package = state_.packages[file->package.ToString()];
      package.name = file->package.ToString();
      package.files.push_back(file);
    }
    for (const ast::File* file : files_) {
      PackageInfo& package = state_.packages.at(file->package.ToString());
      for (const ast::ImportDecl& import : file->imports) {
        std::string target = import.package.ToString();
        if (!state_.packages.contains(target)) {
          std::vector<std::string> known;
          for (const auto& [name, info] : state_.packages) known.push_back(name);
          state_.Error(DiagCode::kUnknownPackage, import.package.span,
                       absl::StrCat("unknown package `", target, "`"),
                       DidYouMean(target, known).empty()
                           ? "pass its files to the command, or use a `std.*` package"
                           : DidYouMean(target, known));
          continue;
        }
        if (target == package.name) {
          state_.Error(DiagCode::kImportCycle, import.span,
                       absl::StrCat("package `", target, "` imports itself"));
          continue;
        }
        auto [it, inserted] = package.imports.emplace(import.local_name(), target);
        if (!inserted && it->second != target) {
          state_.Error(
              DiagCode::kDuplicateDeclaration, import.span,
              absl::StrCat("`", import.local_name(), "` already names package `", it->second, "`"),
              "give one of them a different name with `as`");
        }
      }
    }
    // Import cycles: depth-first search over the package graph.
    std::map<std::string, int> color;  // 0 new, 1 on stack, 2 done
    std::function<bool(const std::string&)> visit = [&](const std::string& name) {
      color[name] = 1;
      for (const auto& [local, target] : state_.packages.at(name).imports) {
        if (color[target] == 1) {
          ReportImportCycle(name, target);
          return true;
        }
        if (color[target] == 0 && visit(target)) return true;
      }
      color[name] = 2;
      return false;
    };
    for (const auto& [name, package] : state_.packages) {
      if (color[name] == 0) visit(name);
    }
  }

  void ReportImportCycle(const std::string& from, const std::string& to) {
    for (const ast::File* file : state_.packages.at(from).files) {
      for (const ast::ImportDecl& import : file->imports) {
        if (import.package.ToString() == to) {
          state_.Error(DiagCode::kImportCycle, import.span,
                       absl::StrCat("packages `", from, "` and `", to, "` import each other"),
                       "move what both need into a third package");
          return;
        }
      }
    }
  }

  // ---------------------------------------------------------------- schema

  const Type* BuildType(const ast::TypeExpr& type, const std::string& path, bool* optional) {
    *optional = type.optional;
    switch (type.kind) {
      case ast::TypeExpr::Kind::kNamed: {
        static const std::pair<const char*, TypeKind> kNames[] = {
            {"bool", TypeKind::kBool},
            {"int", TypeKind::kInt},
            {"decimal", TypeKind::kDecimal},
            {"string", TypeKind::kString},
            {"duration", TypeKind::kDuration},
            {"timestamp", TypeKind::kTimestamp},
            {"ip", TypeKind::kIp}};
        std::vector<std::string> names = {"weekday"};
        for (const auto& [spelling, kind] : kNames) {
          if (type.name.text == spelling) return program_.types.Primitive(kind);
          names.push_back(spelling);
        }
        if (type.name.text == "weekday") return program_.types.EnumOf(program_.weekday_enum);
        state_.Error(DiagCode::kUnknownType, type.name.span,
                     absl::StrCat("unknown type `", type.name.text, "`"),
                     DidYouMean(type.name.text, names).empty()
                         ? "types are bool, int, decimal, string, duration, timestamp, ip, enum, "
                           "set<T> or a record"
                         : DidYouMean(type.name.text, names));
        return program_.types.Error();
      }
      case ast::TypeExpr::Kind::kSet: {
        bool element_optional = false;
        const Type* element = BuildType(*type.element, path, &element_optional);
        if (element_optional) {
          state_.Error(DiagCode::kUnknownType, type.element->span,
                       "set elements cannot be optional");
        }
        if (element->kind == TypeKind::kSet) {
          state_.Error(DiagCode::kUnknownType, type.element->span,
                       "sets of sets are not supported");
          return program_.types.Error();
        }
        return element->kind == TypeKind::kError ? element : program_.types.SetOf(element);
      }
      case ast::TypeExpr::Kind::kEnum: {
        EnumType* enumeration = program_.types.NewEnum(path);
        std::set<std::string> seen;
        for (const ast::Identifier& member : type.members) {
          if (!seen.insert(member.text).second) {
            state_.Error(DiagCode::kDuplicateDeclaration, member.span,
                         absl::StrCat("enum value `", member.text, "` is listed twice"));
            continue;
          }
          enumeration->members.push_back(member.text);
        }
        return program_.types.EnumOf(enumeration);
      }
      case ast::TypeExpr::Kind::kRecord: {
        RecordType* record = program_.types.NewRecord(path);
        AddFields(record, type.fields, path);
        return program_.types.RecordOf(record);
      }
    }
    return program_.types.Error();
  }

  // Structural equality, for the same attribute declared by two packages.
  static bool Equivalent(const Type* a, const Type* b) {
    if (a == b) return true;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
      case TypeKind::kSet:
        return a->element != nullptr && b->element != nullptr && Equivalent(a->element, b->element);
      case TypeKind::kEnum:
        return a->enumeration->members == b->enumeration->members;
      case TypeKind::kRecord: {
        if (a->record->fields.size() != b->record->fields.size()) return false;
        for (size_t i = 0; i < a->record->fields.size(); ++i) {
          const Field& x = a->record->fields[i];
          const Field& y = b->record->fields[i];
          if (x.name != y.name || x.optional != y.optional || !Equivalent(x.type, y.type))
            return false;
        }
        return true;
      }
      default:
        return true;
    }
  }

  // The schema is shared by every package of a compilation: a package may
  // declare an attribute another package declared, if the declarations agree.
  void AddFields(RecordType* record, const std::vector<ast::FieldDecl>& fields,
                 const std::string& path) {
    for (const ast::FieldDecl& decl : fields) {
      if (const Field* existing = record->Find(decl.name.text); existing != nullptr) {
        auto owner = field_package_.find({record, decl.name.text});
        if (!existing->builtin && owner != field_package_.end() &&
            owner->second != current_package_) {
          bool optional = false;
          const Type* type =
              BuildType(*decl.type, absl::StrCat(path, ".", decl.name.text), &optional);
          if (optional == existing->optional && decl.sensitive == existing->sensitive &&
              Equivalent(type, existing->type)) {
            continue;
          }
          state_.Error(DiagCode::kDuplicateDeclaration, decl.name.span,
                       absl::StrCat("`", path, ".", decl.name.text,
                                    "` is declared differently by package `", owner->second, "`"),
                       "packages that share a schema must declare an attribute the same way");
          continue;
        }
        if (existing->builtin) {
          state_.Error(DiagCode::kBuiltinRedeclared, decl.name.span,
                       absl::StrCat("`", path, ".", decl.name.text, "` is built in"),
                       "built-in attributes are documented in docs/language.md; use another name");
        } else {
          state_.Error(DiagCode::kDuplicateDeclaration, decl.name.span,
                       absl::StrCat("`", path, ".", decl.name.text, "` is declared twice"));
        }
        continue;
      }
      Field field;
      field.name = decl.name.text;
      field.sensitive = decl.sensitive;
      field.span = decl.name.span;
      field.type = BuildType(*decl.type, absl::StrCat(path, ".", decl.name.text), &field.optional);
      record->fields.push_back(std::move(field));
      field_package_[{record, decl.name.text}] = current_package_;
    }
  }

  void BuildSchema() {
    auto* subject = const_cast<RecordType*>(program_.subject);
    auto* context = const_cast<RecordType*>(program_.context);
    ForEachDecl(ast::Declaration::Kind::kSchema, [&](const ast::Declaration& decl,
                                                     PackageInfo& package) {
      current_package_ = package.name;
      schema_packages_.insert(package.name);
      for (const ast::SchemaMember& member : decl.schema->members) {
        switch (member.kind) {
          case ast::SchemaMember::Kind::kSubject:
            AddFields(subject, member.fields, "subject");
            break;
          case ast::SchemaMember::Kind::kContext:
            AddFields(context, member.fields, "context");
            break;
          case ast::SchemaMember::Kind::kResource: {
            int index = program_.FindResourceType(member.resource_type.text);
            if (index < 0) {
              RecordType* record =
                  program_.types.NewRecord(absl::StrCat("resource.", member.resource_type.text));
              record->fields = program_.any_resource->fields;  // type, id
              program_.resource_types.push_back(
                  ResourceType{member.resource_type.text, record, member.resource_type.span});
              index = static_cast<int>(program_.resource_types.size()) - 1;
            }
            auto* record = const_cast<RecordType*>(program_.resource_types[index].record);
            AddFields(record, member.fields, record->name);
            break;
          }
          case ast::SchemaMember::Kind::kActions:
            for (const auto& action : member.actions) {
              if (int existing = program_.FindAction(action.name.text); existing >= 0) {
                if (action_package_[existing] != package.name &&
                    program_.actions[existing].sensitive == action.sensitive) {
                  continue;  // the same action, shared with another package
                }
                state_.Error(DiagCode::kDuplicateDeclaration, action.name.span,
                             absl::StrCat("action `", action.name.text, "` is declared twice"));
                continue;
              }
              program_.actions.push_back(
                  Action{action.name.text, action.sensitive, action.name.span});
              action_package_.push_back(package.name);
              const_cast<EnumType*>(program_.action_enum)->members.push_back(action.name.text);
            }
            break;
        }
      }
    });
  }

  // Gives every field reachable from a root an attribute id, depth first.
  void NumberAttributes() {
    auto number = [&](RecordType* record, const std::string& path, AttributeId parent,
                      int resource_type, auto& self) -> void {
      for (Field& field : record->fields) {
        Attribute attribute;
        attribute.id = static_cast<AttributeId>(program_.attributes.size());
        attribute.path = absl::StrCat(path, ".", field.name);
        attribute.type = field.type;
        attribute.optional = field.optional;
        attribute.sensitive = field.sensitive;
        attribute.builtin = field.builtin;
        attribute.parent = parent;
        attribute.resource_type = resource_type;
        field.attribute = attribute.id;
        program_.attributes.push_back(attribute);
        if (field.type->kind == TypeKind::kRecord) {
          self(const_cast<RecordType*>(field.type->record), attribute.path, attribute.id,
               resource_type, self);
        }
      }
    };
    number(const_cast<RecordType*>(program_.subject), "subject", -1, -1, number);
    number(const_cast<RecordType*>(program_.context), "context", -1, -1, number);
    number(const_cast<RecordType*>(program_.any_resource), "resource", -1, -1, number);
    for (size_t i = 0; i < program_.resource_types.size(); ++i) {
      auto* record = const_cast<RecordType*>(program_.resource_types[i].record);
      number(record, record->name, -1, static_cast<int>(i), number);
    }
  }

  // ---------------------------------------------------------------- symbols

  void Duplicate(const std::string& what, const ast::Identifier& name) {
    state_.Error(DiagCode::kDuplicateDeclaration, name.span,
                 absl::StrCat(what, " `", name.text, "` is declared twice"));
  }

  void CollectSymbols() {
    using K = ast::Declaration::Kind;
    // Roles are one namespace for the bundle: `role admin` in two packages
    // declares the same role; twice in one package is a mistake.
    ForEachDecl(K::kRole, [&](const ast::Declaration& decl, PackageInfo& package) {
      int role = program_.FindRole(decl.role->name.text);
      if (role >= 0) {
        if (!role_packages_[role].insert(package.name).second) Duplicate("role", decl.role->name);
        return;
      }
      program_.roles.push_back(Role{decl.role->name.text, {}, {}, decl.role->name.span});
      role_packages_.push_back({package.name});
    });
    for (const char* challenge : kBuiltinChallenges) program_.challenges.push_back(challenge);
    ForEachDecl(K::kChallenge, [&](const ast::Declaration& decl, PackageInfo&) {
      const std::string& name = decl.challenge->name.text;
      if (std::find(program_.challenges.begin(), program_.challenges.end(), name) !=
          program_.challenges.end()) {
        return Duplicate("challenge", decl.challenge->name);
      }
      program_.challenges.push_back(name);
    });
    ForEachDecl(K::kData, [&](const ast::Declaration& decl, PackageInfo&) {
      for (const DataSlot& slot : program_.data) {
        if (slot.name == decl.data->name.text) return Duplicate("data", decl.data->name);
      }
      bool optional = false;
      const Type* type =
          BuildType(*decl.data->type, absl::StrCat("data.", decl.data->name.text), &optional);
      if (optional) {
        state_.Error(
            DiagCode::kUnknownType, decl.data->type->span, "data cannot be optional",
            "data is supplied when policies load; an empty set or a default value stands for none");
      }
      program_.data.push_back(DataSlot{decl.data->name.text, type, decl.data->name.span});
    });
    ForEachDecl(K::kRisk, [&](const ast::Declaration& decl, PackageInfo&) {
      for (const RiskScore& risk : program_.risks) {
        if (risk.name == decl.risk->name.text) return Duplicate("risk", decl.risk->name);
      }
      RiskScore risk;
      risk.name = decl.risk->name.text;
      risk.span = decl.risk->name.span;
      program_.risks.push_back(std::move(risk));
    });
    ForEachDecl(K::kLimit, [&](const ast::Declaration& decl, PackageInfo&) {
      for (const RateLimit& limit : program_.limits) {
        if (limit.name == decl.limit->name.text) return Duplicate("limit", decl.limit->name);
      }
      RateLimit limit;
      limit.name = decl.limit->name.text;
      limit.count = decl.limit->count;
      limit.window_millis = decl.limit->window_millis;
      limit.span = decl.limit->name.span;
      program_.limits.push_back(std::move(limit));
    });
    ForEachDecl(K::kConst, [&](const ast::Declaration& decl, PackageInfo& package) {
      const std::string& name = decl.constant->name.text;
      if (package.consts.contains(name) || package.defs.contains(name))
        return Duplicate("const", decl.constant->name);
      package.consts[name] = decl.constant.get();
    });
    ForEachDecl(K::kDef, [&](const ast::Declaration& decl, PackageInfo& package) {
      const std::string& name = decl.def->name.text;
      if (package.consts.contains(name) || package.defs.contains(name))
        return Duplicate("def", decl.def->name);
      std::set<std::string> params;
      for (const ast::Param& param : decl.def->params) {
        if (!params.insert(param.name.text).second) Duplicate("parameter", param.name);
      }
      package.defs[name] = decl.def.get();
    });
  }

  // ---------------------------------------------------------------- roles

  int ResolveRole(const ast::Identifier& name) {
    int role = program_.FindRole(name.text);
    if (role < 0) {
      std::vector<std::string> names;
      for (const Role& candidate : program_.roles) names.push_back(candidate.name);
      std::string help = DidYouMean(name.text, names);
      state_.Error(DiagCode::kUnknownRole, name.span,
                   absl::StrCat("unknown role `", name.text, "`"),
                   help.empty() ? absl::StrCat("declare it: `role ", name.text, "`") : help);
    }
    return role;
  }

  void CheckRoles() {
    // A role declared by several packages: the declarations that name parents
    // must name the same ones (one package cannot quietly make another's role
    // inherit more); the others only refer to the role.
    std::vector<const ast::Declaration*> parents_from(program_.roles.size(), nullptr);
    ForEachDecl(ast::Declaration::Kind::kRole, [&](const ast::Declaration& decl, PackageInfo&) {
      int role = program_.FindRole(decl.role->name.text);
      if (role < 0 || decl.role->extends.empty()) return;
      std::set<int> parents;
      for (const ast::Identifier& parent : decl.role->extends) {
        int parent_role = ResolveRole(parent);
        if (parent_role >= 0) parents.insert(parent_role);
      }
      std::vector<int>& extends = program_.roles[role].extends;
      if (parents_from[role] == nullptr) {
        parents_from[role] = &decl;
        extends.assign(parents.begin(), parents.end());
      } else if (std::set<int>(extends.begin(), extends.end()) != parents) {
        state_.Error(DiagCode::kDuplicateDeclaration, decl.role->name.span,
                     absl::StrCat("role `", decl.role->name.text,
                                  "` is declared with other parents than at ",
                                  Where(parents_from[role]->role->name.span)),
                     "name a role's parents in one declaration; other packages may declare the "
                     "role without `extends`");
      }
    });
    // Cycles, then transitive closures.
    size_t count = program_.roles.size();
    std::vector<int> color(count, 0);
    std::vector<bool> in_cycle(count, false);
    std::function<void(int)> visit = [&](int role) {
      color[role] = 1;
      for (int parent : program_.roles[role].extends) {
        if (color[parent] == 1) {
          in_cycle[parent] = true;
          state_.Error(DiagCode::kRoleCycle, program_.roles[role].span,
                       absl::StrCat("roles `", program_.roles[role].name, "` and `",
                                    program_.roles[parent].name, "` extend each other"),
                       "role inheritance must not loop");
        } else if (color[parent] == 0) {
          visit(parent);
        }
      }
      color[role] = 2;
    };
    for (size_t i = 0; i < count; ++i) {
      if (color[i] == 0) visit(static_cast<int>(i));
    }
    for (size_t i = 0; i < count; ++i) {
      std::set<int> closure;
      std::vector<int> stack = {static_cast<int>(i)};
      while (!stack.empty()) {
        int role = stack.back();
        stack.pop_back();
        if (!closure.insert(role).second) continue;
        for (int parent : program_.roles[role].extends) stack.push_back(parent);
      }
      program_.roles[i].closure.assign(closure.begin(), closure.end());
    }
    ForEachDecl(ast::Declaration::Kind::kSeparate, [&](const ast::Declaration& decl, PackageInfo&) {
      Separation separation;
      separation.span = decl.span;
      for (const ast::Identifier& name : decl.separate->roles) {
        int role = ResolveRole(name);
        if (role < 0) return;
        if (std::find(separation.roles.begin(), separation.roles.end(), role) !=
            separation.roles.end()) {
          state_.Error(DiagCode::kDuplicateDeclaration, name.span,
                       absl::StrCat("role `", name.text, "` is listed twice"));
          return;
        }
        separation.roles.push_back(role);
      }
      program_.separations.push_back(std::move(separation));
    });
    for (const Role& role : program_.roles) {
      std::vector<int> held(role.closure.begin(), role.closure.end());
      if (auto pair = SeparatedPair(held)) {
        state_.Error(
            DiagCode::kRoleInheritsSeparated, role.span,
            absl::StrCat("role `", role.name, "` holds both `", program_.roles[pair->first].name,
                         "` and `", program_.roles[pair->second].name, "`, which are separated"),
            "separation of duties forbids one subject holding both");
      }
    }
  }

  // Two roles of one `separate` declaration that `held` both contains.
  std::optional<std::pair<int, int>> SeparatedPair(const std::vector<int>& held) const {
    for (const Separation& separation : program_.separations) {
      int first = -1;
      for (int role : separation.roles) {
        if (std::find(held.begin(), held.end(), role) == held.end()) continue;
        if (first < 0) {
          first = role;
        } else {
          return std::make_pair(first, role);
        }
      }
    }
    return std::nullopt;
  }

  void CheckJitProfiles() {
    ForEachDecl(ast::Declaration::Kind::kJit, [&](const ast::Declaration& decl, PackageInfo&) {
      const ast::JitDecl& jit = *decl.jit;
      for (const JitProfile& other : program_.jit_profiles) {
        if (other.name == jit.name.text) return Duplicate("jit profile", jit.name);
      }
      JitProfile profile;
      profile.name = jit.name.text;
      profile.span = jit.name.span;
      auto repeated = [&](const char* clause, size_t count, Span span) {
        if (count > 1) {
          state_.Error(DiagCode::kInvalidJit, span,
                       absl::StrCat("`", clause, "` is given more than once"));
        }
      };
      if (!jit.max.empty()) repeated("max", jit.max.size(), jit.max[1 % jit.max.size()].span);
      if (!jit.approvals.empty()) {
        repeated("approvals", jit.approvals.size(), jit.approvals[1 % jit.approvals.size()].span);
      }
      std::vector<int> granted_closure;
      for (const auto& grants : jit.grants) {
        for (const ast::Identifier& name : grants.roles) {
          int role = ResolveRole(name);
          if (role < 0) continue;
          profile.grants.push_back(role);
          for (int held : program_.roles[role].closure) granted_closure.push_back(held);
        }
      }
      if (jit.grants.empty()) {
        state_.Error(DiagCode::kInvalidJit, jit.name.span,
                     absl::StrCat("jit profile `", jit.name.text, "` grants no role"),
                     "add `grants role NAME`");
      }
      if (auto pair = SeparatedPair(granted_closure)) {
        state_.Error(DiagCode::kJitGrantsSeparated, jit.grants.front().span,
                     absl::StrCat("jit profile `", jit.name.text, "` grants both `",
                                  program_.roles[pair->first].name, "` and `",
                                  program_.roles[pair->second].name, "`, which are separated"));
      }
      if (!jit.max.empty()) {
        profile.max_millis = jit.max[0].millis;
        if (jit.max[0].millis <= 0) {
          state_.Error(DiagCode::kInvalidJit, jit.max[0].span,
                       "the maximum duration must be positive");
        } else if (jit.max[0].millis > 30LL * 24 * 3600 * 1000) {
          state_.Error(
              DiagCode::kInvalidJit, jit.max[0].span,
              absl::StrCat("`max ", jit.max[0].text, "` is longer than 30 days"),
              "just-in-time elevation is for short windows; grant a role for standing access");
        }
      }
      if (!jit.approvals.empty()) {
        const auto& approvals = jit.approvals[0];
        profile.approvals = approvals.count;
        profile.approver_role = ResolveRole(approvals.role);
        if (approvals.count < 1 || approvals.count > 10) {
          state_.Error(DiagCode::kInvalidJit, approvals.span, "approvals must be between 1 and 10");
        }
      }
      for (const auto& requires_clause : jit.requires_) {
        for (const ast::Identifier& item : requires_clause.items) {
          bool known = false;
          for (const char* requirement : kJitRequirements)
            known = known || item.text == requirement;
          if (!known) {
            state_.Error(DiagCode::kInvalidJit, item.span,
                         absl::StrCat("unknown requirement `", item.text, "`"),
                         "jit profiles can require mfa, reason and ticket");
            continue;
          }
          profile.requires_.push_back(item.text);
        }
      }
      program_.jit_profiles.push_back(std::move(profile));
    });
  }

  // ---------------------------------------------------------------- risk and limits

  void CheckRiskAndLimits() {
    ForEachDecl(ast::Declaration::Kind::kRisk,
                [&](const ast::Declaration& decl, PackageInfo& package) {
                  RiskScore* risk = nullptr;
                  for (RiskScore& candidate : program_.risks) {
                    if (candidate.name == decl.risk->name.text &&
                        candidate.span.begin == decl.risk->name.span.begin &&
                        candidate.span.file == decl.risk->name.span.file) {
                      risk = &candidate;
                    }
                  }
                  if (risk == nullptr) return;
                  for (const ast::RiskFactor& factor : decl.risk->factors) {
                    Scope scope;
                    scope.package = &package;
                    RiskFactor checked;
                    checked.points = factor.points;
                    checked.span = factor.span;
                    checked.condition = internal::CheckCondition(state_, *factor.condition, scope);
                    risk->factors.push_back(std::move(checked));
                  }
                });
    ForEachDecl(
        ast::Declaration::Kind::kLimit, [&](const ast::Declaration& decl, PackageInfo& package) {
          RateLimit* limit = nullptr;
          for (RateLimit& candidate : program_.limits) {
            if (candidate.name == decl.limit->name.text &&
                candidate.span.begin == decl.limit->name.span.begin &&
                candidate.span.file == decl.limit->name.span.file) {
              limit = &candidate;
            }
          }
          if (limit == nullptr) return;
          if (decl.limit->count <= 0 || decl.limit->window_millis <= 0) {
            state_.Error(DiagCode::kInvalidLiteral, decl.limit->name.span,
                         "a limit needs a positive count and a positive window");
          }
          if (decl.limit->keys.size() > bc::kMaxLimitKeys) {
            state_.Error(
                DiagCode::kLimitExceeded, decl.limit->keys[bc::kMaxLimitKeys]->span,
                absl::StrCat("limit `", decl.limit->name.text, "` has ", decl.limit->keys.size(),
                             " key components; at most ", bc::kMaxLimitKeys, " are allowed"),
                "key the limit by fewer attributes");
          }
          for (const auto& key : decl.limit->keys) {
            limit->keys.push_back(CheckLimitKey(*key, package));
          }
        });
  }

  // The authentication front-end computes a limit's key from the decoded
  // request before any rule runs, so a key is a plain attribute path it can
  // read from the frame: `subject.…`, `context.…`, `action`, `resource.type`
  // or `resource.id`. An optional attribute needs no guard: requests that
  // lack it share one bucket for that component.
  std::unique_ptr<CExpr> CheckLimitKey(const ast::Expr& key, PackageInfo& package) {
    static constexpr const char* kHelp =
        "key a limit by `subject.…`, `context.…`, `action`, `resource.type` or `resource.id`; "
        "the front-end reads these from the request before deciding";
    auto error = [&](Span span, std::string message, std::string help) {
      state_.Error(DiagCode::kTypeMismatch, span, std::move(message), std::move(help));
      auto out = std::make_unique<CExpr>();
      out->type = program_.types.Error();
      out->span = key.span;
      return out;
    };
    // The shape first, so the message names the rule rather than a type.
    std::vector<const std::string*> fields;
    const ast::Expr* root = &key;
    while (root->kind == ast::ExprKind::kMember && !root->args.empty()) {
      fields.push_back(&root->text);
      root = root->args[0].get();
    }
    std::reverse(fields.begin(), fields.end());
    const std::string base = root->kind == ast::ExprKind::kName ? root->text : std::string();
    if (base == "resource" && !fields.empty() &&
        (fields.size() > 1 || (*fields[0] != "type" && *fields[0] != "id"))) {
      return error(key.span, "a limit key can read only `resource.type` or `resource.id`",
                   "limits are declared for every resource type; test other resource attributes "
                   "in a rule, or key the limit by `resource.id`");
    }
    bool path = (base == "action" && fields.empty()) ||
                ((base == "subject" || base == "context") && !fields.empty()) ||
                (base == "resource" && fields.size() == 1);
    if (!path) {
      return error(key.span,
                   "a limit key must be an attribute path, not a computed value, constant, "
                   "data value or function call",
                   kHelp);
    }
    // Every optional attribute counts as guarded here (see above).
    internal::Guards guards;
    for (const Attribute& attribute : program_.attributes) {
      if (attribute.optional) guards.insert(attribute.id);
    }
    Scope scope;
    scope.package = &package;
    auto checked = internal::CheckExpr(state_, key, scope, guards, nullptr);
    if (checked->type->kind == TypeKind::kError) return checked;
    if (checked->type->kind == TypeKind::kRecord || checked->type->kind == TypeKind::kSet) {
      return error(
          key.span,
          absl::StrCat("a limit key must be a single value, found `", TypeName(checked->type), "`"),
          "name one scalar attribute, e.g. `subject.id`");
    }
    // An import alias can shadow `subject` or `context`: the result must
    // still be a request attribute.
    bool attribute = checked->kind == CExprKind::kAttribute && checked->attribute >= 0;
    if (!attribute && checked->kind != CExprKind::kAction) {
      return error(key.span, "a limit key must be an attribute of the request", kHelp);
    }
    return checked;
  }

  // ---------------------------------------------------------------- policies

  std::optional<Algorithm> ResolveAlgorithm(const std::optional<ast::Identifier>& name) {
    if (!name) return Algorithm::kDenyOverrides;
    std::vector<std::string> names;
    for (const bc::AlgorithmInfo& info : bc::kAlgorithmInfo) {
      if (name->text == info.keyword) return info.algorithm;
      names.push_back(info.keyword);
    }
    std::string help = DidYouMean(name->text, names);
    state_.Error(DiagCode::kUnknownAlgorithm, name->span,
                 absl::StrCat("unknown combining algorithm `", name->text, "`"),
                 help.empty() ? absl::StrCat("use one of ", absl::StrJoin(names, ", ")) : help);
    return std::nullopt;
  }

  int CheckPolicy(const ast::PolicyDecl& decl, PackageInfo& package) {
    Policy policy;
    policy.name = absl::StrCat(package.name, ".", decl.name.text);
    policy.package = package.name;
    policy.span = decl.name.span;
    if (package.policies.contains(decl.name.text) || package.policy_sets.contains(decl.name.text)) {
      Duplicate("policy", decl.name);
    }
    if (!decl.any_resource) {
      policy.resource_type = program_.FindResourceType(decl.resource_type.text);
      if (policy.resource_type < 0) {
        std::vector<std::string> names;
        for (const ResourceType& type : program_.resource_types) names.push_back(type.name);
        std::string help = DidYouMean(decl.resource_type.text, names);
        state_.Error(DiagCode::kUnknownResourceType, decl.resource_type.span,
                     absl::StrCat("unknown resource type `", decl.resource_type.text, "`"),
                     help.empty() ? absl::StrCat("declare it in a schema: `resource ",
                                                 decl.resource_type.text, " { … }`")
                                  : help);
        return -1;
      }
    }
    if (auto algorithm = ResolveAlgorithm(decl.algorithm)) policy.algorithm = *algorithm;
    std::set<std::string> rule_names;
    for (const ast::RuleDecl& rule_decl : decl.rules) {
      if (!rule_names.insert(rule_decl.name.text).second) Duplicate("rule", rule_decl.name);
      policy.rules.push_back(CheckRule(rule_decl, package, policy.resource_type));
    }
    program_.policies.push_back(std::move(policy));
    int index = static_cast<int>(program_.policies.size()) - 1;
    package.policies.emplace(decl.name.text, index);
    return index;
  }

  Rule CheckRule(const ast::RuleDecl& decl, PackageInfo& package, int resource_type) {
    Rule rule;
    rule.name = decl.name.text;
    rule.span = decl.name.span;
    rule.source = &decl;
    rule.reason = decl.reason;
    rule.effect = decl.effect == ast::EffectKind::kPermit ? Effect::kPermit
                  : decl.effect == ast::EffectKind::kDeny ? Effect::kDeny
                                                          : Effect::kStepUp;
    if (rule.effect == Effect::kStepUp) {
      rule.challenge = decl.challenge.text;
      if (std::find(program_.challenges.begin(), program_.challenges.end(), rule.challenge) ==
          program_.challenges.end()) {
        std::string help = DidYouMean(rule.challenge, program_.challenges);
        state_.Error(
            DiagCode::kUnknownChallenge, decl.challenge.span,
            absl::StrCat("unknown challenge `", rule.challenge, "`"),
            help.empty() ? absl::StrCat("declare it: `challenge ", rule.challenge, "`") : help);
      }
    }
    rule.any_action = decl.any_action;
    for (const ast::Identifier& action : decl.actions) {
      int index = program_.FindAction(action.text);
      if (index < 0) {
        std::vector<std::string> names;
        for (const Action& candidate : program_.actions) names.push_back(candidate.name);
        std::string help = DidYouMean(action.text, names);
        state_.Error(DiagCode::kUnknownAction, action.span,
                     absl::StrCat("unknown action `", action.text, "`"),
                     help.empty()
                         ? absl::StrCat("declare it in the schema: `actions { ", action.text, " }`")
                         : help);
        continue;
      }
      if (std::find(rule.actions.begin(), rule.actions.end(), index) != rule.actions.end()) {
        state_.Error(DiagCode::kDuplicateDeclaration, action.span,
                     absl::StrCat("action `", action.text, "` is listed twice"));
        continue;
      }
      rule.actions.push_back(index);
    }
    Scope scope;
    scope.package = &package;
    scope.resource_type = resource_type;
    if (decl.condition != nullptr)
      rule.condition = internal::CheckCondition(state_, *decl.condition, scope);
    for (const ast::RuleExtra& extra : decl.extras) {
      RuleExtra checked;
      checked.is_obligation = extra.is_obligation;
      checked.name = extra.name.text;
      std::set<std::string> keys;
      for (const auto& arg : extra.args) {
        if (!keys.insert(arg.key.text).second) Duplicate("argument", arg.key);
        auto value = internal::CheckExpr(state_, *arg.value, scope, {}, nullptr);
        if (value->type->kind == TypeKind::kRecord) {
          state_.Error(DiagCode::kTypeMismatch, arg.value->span,
                       "obligation and advice values cannot be records");
        }
        checked.args.emplace_back(arg.key.text, std::move(value));
      }
      rule.extras.push_back(std::move(checked));
    }
    return rule;
  }

  // A `use NAME` member, resolved once every policy and set is known.
  struct UseRef {
    int set_index;
    size_t position;  // in the set's members
    const ast::QualifiedName* name;
  };

  int CheckPolicySet(const ast::PolicySetDecl& decl, PackageInfo& package,
                     std::vector<UseRef>* uses) {
    PolicySet set;
    set.name = absl::StrCat(package.name, ".", decl.name.text);
    set.span = decl.name.span;
    if (package.policies.contains(decl.name.text) || package.policy_sets.contains(decl.name.text)) {
      Duplicate("policy set", decl.name);
    }
    if (auto algorithm = ResolveAlgorithm(decl.algorithm)) set.algorithm = *algorithm;
    program_.policy_sets.push_back(std::move(set));
    int index = static_cast<int>(program_.policy_sets.size()) - 1;
    package.policy_sets.emplace(decl.name.text, index);
    for (const ast::PolicySetMember& member : decl.members) {
      if (member.policy != nullptr) {
        int policy = CheckPolicy(*member.policy, package);
        if (policy >= 0) {
          program_.policy_sets[index].members.push_back({false, policy});
          nested_policies_.insert(policy);
        }
      } else if (member.set != nullptr) {
        int nested = CheckPolicySet(*member.set, package, uses);
        program_.policy_sets[index].members.push_back({true, nested});
        nested_sets_.insert(nested);
      } else if (member.use) {
        // A placeholder keeps the member's place: order matters to first_applicable.
        uses->push_back(UseRef{index, program_.policy_sets[index].members.size(), &*member.use});
        program_.policy_sets[index].members.push_back({false, -1});
      }
    }
    return index;
  }

  void CheckPolicies() {
    std::vector<UseRef> uses;
    std::map<int, PackageInfo*> set_package;
    ForEachDecl(ast::Declaration::Kind::kPolicy,
                [&](const ast::Declaration& decl, PackageInfo& package) {
                  CheckPolicy(*decl.policy, package);
                });
    ForEachDecl(ast::Declaration::Kind::kPolicySet,
                [&](const ast::Declaration& decl, PackageInfo& package) {
                  size_t sets_before = program_.policy_sets.size();
                  CheckPolicySet(*decl.policy_set, package, &uses);
                  for (size_t i = sets_before; i < program_.policy_sets.size(); ++i)
                    set_package[static_cast<int>(i)] = &package;
                });
    // `use NAME` / `use pkg.NAME`.
    for (const auto& [set_index, position, name] : uses) {
      PackageInfo* package = set_package.at(set_index);
      PackageInfo* target = package;
      std::string local = name->parts.back().text;
      if (name->parts.size() == 2) {
        auto it = package->imports.find(name->parts[0].text);
        target = it == package->imports.end() ? nullptr : &state_.packages.at(it->second);
      } else if (name->parts.size() > 2) {
        target = nullptr;
      }
      PolicySet::Member member;
      if (target != nullptr && target->policies.contains(local)) {
        member = {false, target->policies.at(local)};
        used_policies_.insert(member.index);
      } else if (target != nullptr && target->policy_sets.contains(local)) {
        member = {true, target->policy_sets.at(local)};
        used_sets_.insert(member.index);
      } else {
        state_.Error(DiagCode::kUnknownName, name->span,
                     absl::StrCat("no policy or policy set `", name->ToString(), "`"));
        continue;
      }
      program_.policy_sets[set_index].members[position] = member;
    }
    // A set that reaches itself through `use` would never finish evaluating.
    for (size_t start = 0; start < program_.policy_sets.size(); ++start) {
      std::set<int> seen;
      std::vector<int> stack = {static_cast<int>(start)};
      bool cycle = false;
      while (!stack.empty() && !cycle) {
        int current = stack.back();
        stack.pop_back();
        for (const PolicySet::Member& member : program_.policy_sets[current].members) {
          if (!member.is_set) continue;
          if (member.index == static_cast<int>(start)) cycle = true;
          if (seen.insert(member.index).second) stack.push_back(member.index);
        }
      }
      if (cycle) {
        state_.Error(
            DiagCode::kRecursiveDefinition, program_.policy_sets[start].span,
            absl::StrCat("policy set `", program_.policy_sets[start].name, "` contains itself"));
      }
    }
    for (size_t i = 0; i < program_.policies.size(); ++i) {
      int index = static_cast<int>(i);
      if (!nested_policies_.contains(index) && !used_policies_.contains(index))
        program_.roots.push_back({false, index});
    }
    for (size_t i = 0; i < program_.policy_sets.size(); ++i) {
      int index = static_cast<int>(i);
      if (!nested_sets_.contains(index) && !used_sets_.contains(index))
        program_.roots.push_back({true, index});
    }
  }

  // ---------------------------------------------------------------- tests

  void CheckTests() {
    ForEachDecl(
        ast::Declaration::Kind::kTest, [&](const ast::Declaration& decl, PackageInfo& package) {
          const ast::TestDecl& test = *decl.test;
          TestCase checked;
          checked.name = test.name;
          checked.package = package.name;
          checked.source = &test;
          checked.expect = test.expect;
          checked.span = test.name_span;
          if (test.expect == ast::Outcome::kStepUp) {
            checked.challenge = test.challenge.text;
            if (std::find(program_.challenges.begin(), program_.challenges.end(),
                          checked.challenge) == program_.challenges.end()) {
              state_.Error(DiagCode::kUnknownChallenge, test.challenge.span,
                           absl::StrCat("unknown challenge `", checked.challenge, "`"));
            }
          }
          for (const ast::Identifier& rule_name : test.by_rules) {
            auto found = FindRule(package, rule_name.text);
            if (!found) {
              state_.Error(
                  DiagCode::kUnknownRule, rule_name.span,
                  absl::StrCat("no rule `", rule_name.text, "` in package `", package.name, "`"),
                  DidYouMean(rule_name.text, RuleNames(package)));
              continue;
            }
            checked.by_rules.push_back(*found);
          }
          ValidateRequest(test.given, schema_packages_.contains(package.name));
          if (test.data) ValidateData(*test.data);
          program_.tests.push_back(std::move(checked));
        });
  }

  std::optional<std::pair<int, int>> FindRule(const PackageInfo& package,
                                              const std::string& name) const {
    for (size_t p = 0; p < program_.policies.size(); ++p) {
      if (program_.policies[p].package != package.name) continue;
      for (size_t r = 0; r < program_.policies[p].rules.size(); ++r) {
        if (program_.policies[p].rules[r].name == name)
          return std::make_pair(static_cast<int>(p), static_cast<int>(r));
      }
    }
    return std::nullopt;
  }

  std::vector<std::string> RuleNames(const PackageInfo& package) const {
    std::vector<std::string> names;
    for (const Policy& policy : program_.policies) {
      if (policy.package != package.name) continue;
      for (const Rule& rule : policy.rules) names.push_back(rule.name);
    }
    return names;
  }

  void RequestError(Span span, std::string message, std::string help = {}) {
    state_.Error(DiagCode::kInvalidTestRequest, span, std::move(message), std::move(help));
  }

  const ast::JsonValue* Member(const ast::JsonValue& object, const std::string& key) const {
    for (const auto& member : object.members) {
      if (member.key.text == key) return &member.value;
    }
    return nullptr;
  }

  // A package without a schema (a stdlib package of `on *` policies) may test
  // with resource types and actions it does not know.
  void ValidateRequest(const ast::JsonValue& given, bool has_schema) {
    std::set<std::string> seen;
    for (const auto& member : given.members) {
      if (!seen.insert(member.key.text).second) {
        RequestError(member.key.span, absl::StrCat("`", member.key.text, "` is given twice"));
      }
      const std::string& key = member.key.text;
      if (key == "subject") {
        ValidateRecord(member.value, *program_.subject, "subject");
      } else if (key == "context") {
        ValidateRecord(member.value, *program_.context, "context");
      } else if (key == "action") {
        if (member.value.kind != ast::JsonValue::Kind::kString) {
          RequestError(member.value.span, "`action` must be a string naming an action");
        } else if (has_schema && program_.FindAction(member.value.text) < 0) {
          std::vector<std::string> names;
          for (const Action& action : program_.actions) names.push_back(action.name);
          RequestError(member.value.span, absl::StrCat("unknown action `", member.value.text, "`"),
                       DidYouMean(member.value.text, names));
        }
      } else if (key == "resource") {
        ValidateResource(member.value, has_schema);
      } else if (key == "jit") {
        ValidateJitGrants(member.value);
      } else if (key == "limits") {
        ValidateLimitCounts(member.value);
      } else {
        RequestError(
            member.key.span, absl::StrCat("a request has no part `", key, "`"),
            "a test request has subject, action, resource, context, and optionally jit and limits");
      }
    }
    if (Member(given, "action") == nullptr)
      RequestError(given.span, "the request names no `action`");
    if (Member(given, "resource") == nullptr)
      RequestError(given.span, "the request has no `resource`");
  }

  void ValidateJitGrants(const ast::JsonValue& value) {
    if (value.kind != ast::JsonValue::Kind::kArray)
      return RequestError(value.span, "`jit` must be an array of profile names");
    for (const ast::JsonValue& item : value.items) {
      bool known = false;
      for (const JitProfile& profile : program_.jit_profiles)
        known = known || profile.name == item.text;
      if (item.kind != ast::JsonValue::Kind::kString || !known) {
        RequestError(item.span, absl::StrCat("`", item.text, "` is not a jit profile"));
      }
    }
  }

  void ValidateLimitCounts(const ast::JsonValue& value) {
    if (value.kind != ast::JsonValue::Kind::kObject) {
      return RequestError(value.span, "`limits` must map limit names to the count already used");
    }
    for (const auto& member : value.members) {
      bool known = false;
      for (const RateLimit& limit : program_.limits) known = known || limit.name == member.key.text;
      if (!known)
        RequestError(member.key.span,
                     absl::StrCat("no limit named `", member.key.text, "` is declared"));
      if (member.value.kind != ast::JsonValue::Kind::kInt || member.value.int_value < 0) {
        RequestError(member.value.span, "a limit count must be a non-negative integer");
      }
    }
  }

  void ValidateResource(const ast::JsonValue& value, bool has_schema) {
    if (value.kind != ast::JsonValue::Kind::kObject) {
      RequestError(value.span, "`resource` must be an object with a `type`");
      return;
    }
    const ast::JsonValue* type = Member(value, "type");
    if (type == nullptr || type->kind != ast::JsonValue::Kind::kString) {
      RequestError(value.span, "`resource` needs a `type` string");
      return;
    }
    int index = program_.FindResourceType(type->text);
    if (index < 0 && !has_schema) {
      ValidateRecord(value, *program_.any_resource, "resource");
      return;
    }
    if (index < 0) {
      std::vector<std::string> names;
      for (const ResourceType& candidate : program_.resource_types) names.push_back(candidate.name);
      RequestError(type->span, absl::StrCat("unknown resource type `", type->text, "`"),
                   DidYouMean(type->text, names));
      return;
    }
    ValidateRecord(value, *program_.resource_types[index].record, "resource");
  }

  void ValidateRecord(const ast::JsonValue& value, const RecordType& record,
                      const std::string& path) {
    if (value.kind != ast::JsonValue::Kind::kObject) {
      RequestError(value.span, absl::StrCat("`", path, "` must be an object"));
      return;
    }
    std::set<std::string> seen;
    for (const auto& member : value.members) {
      if (!seen.insert(member.key.text).second) {
        RequestError(member.key.span, absl::StrCat("`", member.key.text, "` is given twice"));
        continue;
      }
      const Field* field = record.Find(member.key.text);
      if (field == nullptr) {
        std::vector<std::string> names;
        for (const Field& candidate : record.fields) names.push_back(candidate.name);
        RequestError(member.key.span,
                     absl::StrCat("`", path, "` has no attribute `", member.key.text, "`"),
                     DidYouMean(member.key.text, names));
        continue;
      }
      if (member.value.kind == ast::JsonValue::Kind::kNull) {
        // `null` stands for an absent optional attribute.
        if (!field->optional) {
          RequestError(member.value.span, absl::StrCat("`", path, ".", member.key.text,
                                                       "` is required and cannot be null"));
        }
        continue;
      }
      ValidateValue(member.value, field->type, absl::StrCat(path, ".", member.key.text));
    }
  }

  void ValidateValue(const ast::JsonValue& value, const Type* type, const std::string& path) {
    using Kind = ast::JsonValue::Kind;
    auto mismatch = [&](const char* expected) {
      RequestError(value.span, absl::StrCat("`", path, "` must be ", expected));
    };
    switch (type->kind) {
      case TypeKind::kError:
        return;
      case TypeKind::kBool:
        if (value.kind != Kind::kBool) mismatch("true or false");
        return;
      case TypeKind::kInt:
        if (value.kind != Kind::kInt) mismatch("an integer");
        return;
      case TypeKind::kDecimal:
        if (value.kind != Kind::kInt && value.kind != Kind::kDecimal) mismatch("a number");
        return;
      case TypeKind::kString:
        if (value.kind != Kind::kString) mismatch("a string");
        return;
      case TypeKind::kDuration: {
        int64_t millis = 0;
        if (value.kind != Kind::kString ||
            values::ParseDuration(value.text, &millis) != values::Error::kNone) {
          mismatch("a duration string such as \"15m\"");
        }
        return;
      }
      case TypeKind::kTimestamp: {
        int64_t millis = 0;
        if (value.kind != Kind::kString ||
            values::ParseTimestamp(value.text, &millis) != values::Error::kNone) {
          mismatch("an RFC 3339 timestamp string such as \"2026-01-31T09:00:00Z\"");
        }
        return;
      }
      case TypeKind::kIp: {
        values::IpNet ip;
        if (value.kind != Kind::kString ||
            values::ParseIp(value.text, &ip) != values::Error::kNone) {
          mismatch("an IP address or CIDR string");
        }
        return;
      }
      case TypeKind::kEnum:
        if (value.kind != Kind::kString || type->enumeration->Find(value.text) < 0) {
          RequestError(value.span, absl::StrCat("`", path, "` must be one of ",
                                                absl::StrJoin(type->enumeration->members, ", ")));
        }
        return;
      case TypeKind::kSet:
        if (value.kind != Kind::kArray) return mismatch("an array");
        for (const ast::JsonValue& item : value.items) {
          if (type->element != nullptr)
            ValidateValue(item, type->element, absl::StrCat(path, "[]"));
        }
        return;
      case TypeKind::kRecord:
        ValidateRecord(value, *type->record, path);
        return;
    }
  }

  void ValidateData(const ast::JsonValue& data) {
    for (const auto& member : data.members) {
      const DataSlot* slot = nullptr;
      for (const DataSlot& candidate : program_.data) {
        if (candidate.name == member.key.text) slot = &candidate;
      }
      if (slot == nullptr) {
        std::vector<std::string> names;
        for (const DataSlot& candidate : program_.data) names.push_back(candidate.name);
        RequestError(member.key.span,
                     absl::StrCat("no data named `", member.key.text, "` is declared"),
                     DidYouMean(member.key.text, names));
        continue;
      }
      ValidateValue(member.value, slot->type, absl::StrCat("data.", member.key.text));
    }
  }

  // "file:line" of a span, for messages that point at a second place.
  std::string Where(Span span) const {
    if (!span.valid() || span.file >= state_.sources.size()) return "?";
    return absl::StrCat(state_.sources.file(span.file).path(), ":",
                        state_.sources.file(span.file).Locate(span.begin).line);
  }

  CheckerState& state_;
  CheckedProgram& program_;
  const std::vector<const ast::File*>& files_;
  std::vector<std::set<std::string>> role_packages_;  // per role: the packages declaring it
  std::set<int> nested_policies_, used_policies_, nested_sets_, used_sets_;
  std::string current_package_;
  std::map<std::pair<const RecordType*, std::string>, std::string> field_package_;
  std::vector<std::string> action_package_;
  std::set<std::string> schema_packages_;  // packages with a `schema` block
};

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestName(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, name.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    if (candidate == name) continue;
    size_t distance = EditDistance(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::unique_ptr<CheckedProgram> Check(const std::vector<const ast::File*>& files,
                                      const SourceManager& sources, DiagnosticSink& sink) {
  auto program = std::make_unique<CheckedProgram>();
  size_t errors_before = sink.error_count();
  CheckerState state(*program, sources, sink);
  DeclarationChecker(state, files).Run();
  if (sink.error_count() > errors_before) return nullptr;
  return program;
}

}  // namespace warden
