#pragma once
// A cache whose values are computed once per key, even by concurrent callers:
// the first caller of a key computes its value, and callers that ask while it
// is being computed wait for that result instead of computing it again
// (parallel compilations of one process share their mapping searches). An
// exception thrown by the computation is the key's result too.
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>

namespace palsim {

template <class Value>
class OnceCache {
 public:
  Value get(const std::string& key, const std::function<Value()>& compute) {
    std::promise<Value> promise;
    std::shared_future<Value> result;
    bool compute_here = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = values_.find(key);
      if (it == values_.end()) {
        result = promise.get_future().share();
        values_.emplace(key, result);
        compute_here = true;
      } else {
        result = it->second;
      }
    }
    if (compute_here) {
      try {
        promise.set_value(compute());
      } catch (...) {
        promise.set_exception(std::current_exception());
      }
    }
    return result.get();
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    values_.clear();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_future<Value>> values_;
};

}  // namespace palsim
