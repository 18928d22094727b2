// InMemoryDataset: a dataset's object in memory, whatever its C++ type.
//
// The butler and the datastore move objects between callers and formatters without knowing
// their types (the butler never depends on `image`); the formatter that owns a storage class
// knows the type and asks for it with as<T>(). An InMemoryDataset either owns its object
// (what get() returns) or borrows one the caller keeps alive for the duration of a call
// (what put() is given, so a 200 MB exposure is never copied to be written).
//
// Value type; copies share the object. Not thread-safe for writes to the object itself.
#pragma once

#include <memory>
#include <typeindex>
#include <typeinfo>
#include <utility>

namespace majordome::datastore {

class InMemoryDataset {
 public:
  InMemoryDataset() = default;

  // Takes ownership of `value` (moved in).
  template <class T>
  static InMemoryDataset own(T value) {
    InMemoryDataset d;
    d.object_ = std::make_shared<T>(std::move(value));
    d.type_ = typeid(T);
    return d;
  }
  // Refers to `value` without owning it. REQUIRES: `value` outlives every use of the result.
  template <class T>
  static InMemoryDataset borrow(const T& value) {
    InMemoryDataset d;
    d.object_ = std::shared_ptr<void>(std::shared_ptr<void>(), const_cast<T*>(&value));
    d.type_ = typeid(T);
    d.borrowed_ = true;
    return d;
  }

  bool has_value() const { return object_ != nullptr; }
  std::type_index type() const { return type_; }
  template <class T>
  bool holds() const {
    return object_ && type_ == std::type_index(typeid(T));
  }
  // The object, or nullptr when it is not a T.
  template <class T>
  const T* as() const {
    return holds<T>() ? static_cast<const T*>(object_.get()) : nullptr;
  }
  // Moves the object out when this is its only owner, copies it otherwise.
  // REQUIRES: holds<T>().
  template <class T>
  T take() && {
    auto* p = static_cast<T*>(object_.get());
    if (!borrowed_ && object_.use_count() == 1) return std::move(*p);
    return *p;
  }

 private:
  std::shared_ptr<void> object_;
  std::type_index type_ = typeid(void);
  bool borrowed_ = false;
};

}  // namespace majordome::datastore
