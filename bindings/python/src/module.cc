// warden._warden: the Engine of the Python package (bindings/python/warden).
// Decisions run without the GIL; any number of Python threads may decide on
// one Engine at the same time.
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "bindings/common/engine_pool.h"

namespace py = pybind11;
using warden::bindings::LoadError;
using warden::bindings::PooledEngine;

namespace {

// warden.errors.WardenError, imported once at module init (never freed).
PyObject* warden_error = nullptr;

[[noreturn]] void RaiseWardenError(const std::string& message) {
  PyErr_SetString(warden_error, message.c_str());
  throw py::error_already_set();
}

// json.dumps(value) without NaN or Infinity; sets and tuples become lists.
std::string Dumps(const py::handle& value) {
  static const auto* const kJson = new py::object(py::module_::import("json"));
  static const auto* const kDefault =
      new py::cpp_function([](const py::handle& item) -> py::object {
        if (py::isinstance<py::set>(item) || py::isinstance<py::frozenset>(item)) {
          py::module_ builtins = py::module_::import("builtins");
          return builtins.attr("sorted")(item, py::arg("key") = builtins.attr("repr"));
        }
        throw py::type_error(std::string("Object of type ") +
                             std::string(py::str(item.get_type().attr("__name__"))) +
                             " is not JSON serializable");
      });
  py::object text = kJson->attr("dumps")(
      value, py::arg("allow_nan") = false, py::arg("ensure_ascii") = false,
      py::arg("separators") = py::make_tuple(",", ":"), py::arg("default") = *kDefault);
  return text.cast<std::string>();
}

py::object Loads(const py::str& text) {
  static const auto* const kLoads = new py::object(py::module_::import("json").attr("loads"));
  return (*kLoads)(text);
}

// The `data` argument: None, a JSON object as text, or a mapping.
std::unique_ptr<std::string> DataJson(const py::object& data) {
  if (data.is_none()) return nullptr;
  if (py::isinstance<py::str>(data)) return std::make_unique<std::string>(data.cast<std::string>());
  if (!py::isinstance<py::dict>(data) &&
      !py::isinstance(data, py::module_::import("collections.abc").attr("Mapping"))) {
    throw py::type_error("data must be a mapping (data name -> value), JSON text or None");
  }
  return std::make_unique<std::string>(Dumps(py::dict(data)));
}

class PyEngine {
 public:
  explicit PyEngine(std::unique_ptr<PooledEngine> pool) : pool_(std::move(pool)) {}

  // Bundle file; `path` is str or os.PathLike.
  static std::unique_ptr<PyEngine> FromFile(const py::object& path, const py::object& data) {
    std::string file = py::module_::import("os").attr("fsdecode")(path).cast<std::string>();
    std::unique_ptr<std::string> data_json = DataJson(data);
    return Load([&](LoadError* error) {
      return PooledEngine::LoadFile(file, data_json ? data_json->c_str() : nullptr, error);
    });
  }

  static std::unique_ptr<PyEngine> FromBytes(const py::buffer& bytes, const py::object& data) {
    py::buffer_info info = bytes.request();
    if (info.ndim != 1 || info.itemsize != 1) {
      throw py::type_error("from_bytes takes a bytes-like object of single bytes");
    }
    std::string copy(static_cast<const char*>(info.ptr), static_cast<size_t>(info.size));
    std::unique_ptr<std::string> data_json = DataJson(data);
    return Load([&](LoadError* error) {
      return PooledEngine::LoadBundle(copy, data_json ? data_json->c_str() : nullptr, error);
    });
  }

  // The decision JSON of a JSON request, as str.
  py::str DecideJson(const py::object& request) const {
    std::string text;
    if (py::isinstance<py::bytes>(request) || py::isinstance<py::str>(request)) {
      text = request.cast<std::string>();
    } else {
      throw py::type_error("decide_json takes the request as str or bytes");
    }
    return Run(text);
  }

  // The decision of a request given as a dict, as a dict.
  py::object Decide(const py::object& request) const { return Loads(Run(Dumps(request))); }

  const std::string& bundle_hash() const { return pool_->bundle_hash(); }

 private:
  template <typename LoadFn>
  static std::unique_ptr<PyEngine> Load(LoadFn&& load) {
    LoadError error;
    std::unique_ptr<PooledEngine> pool;
    {
      py::gil_scoped_release release;
      pool = load(&error);
    }
    if (pool == nullptr) RaiseWardenError(error.message);
    return std::make_unique<PyEngine>(std::move(pool));
  }

  py::str Run(const std::string& request) const {
    py::object result;
    {
      py::gil_scoped_release release;
      pool_->Decide(request, [&](const std::string& out) {
        py::gil_scoped_acquire acquire;
        result = py::str(out.data(), out.size());
      });
    }
    return py::reinterpret_borrow<py::str>(result);
  }

  std::unique_ptr<PooledEngine> pool_;
};

}  // namespace

PYBIND11_MODULE(_warden, m) {
  m.doc() = "Warden's policy engine (the compiled part of the warden package).";
  py::object error_type = py::module_::import("warden.errors").attr("WardenError");
  warden_error = error_type.release().ptr();

  py::class_<PyEngine>(m, "Engine", R"doc(
A compiled policy bundle, loaded and verified.

    Engine(bundle_path, data=None)
    Engine.from_bytes(bundle_bytes, data=None)

`data` gives the values of the policies' `data` declarations: a mapping
(name -> bool, int, float/str for decimals, str, or a list/set/tuple for
sets) or its JSON text. Load errors raise warden.WardenError. An Engine is
immutable and thread-safe: decisions release the GIL.)doc")
      .def(py::init(&PyEngine::FromFile), py::arg("bundle_path"), py::arg("data") = py::none())
      .def_static("from_bytes", &PyEngine::FromBytes, py::arg("bundle"),
                  py::arg("data") = py::none(),
                  "Loads a bundle from a bytes-like object (e.g. the contents of a .wdnb file).")
      .def("decide", &PyEngine::Decide, py::arg("request"),
           "Decides a request (a dict in the shape of docs/decisions.md) and returns the "
           "decision as a dict. A request that cannot be decided returns a deny decision "
           "with an \"error\" key; it does not raise.")
      .def("decide_json", &PyEngine::DecideJson, py::arg("request_json"),
           "Decides a JSON request (str or bytes) and returns the decision JSON (str).")
      .def_property_readonly("bundle_hash", &PyEngine::bundle_hash,
                             "SHA-256 of the bundle's content, in hex.")
      .def("__repr__", [](const PyEngine& engine) {
        return "<warden.Engine bundle_hash=" + engine.bundle_hash().substr(0, 12) + "…>";
      });
  m.attr("__version__") = WARDEN_PY_VERSION;
}
