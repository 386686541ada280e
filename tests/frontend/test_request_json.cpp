// A request's parameters: shape_option_keys() names exactly the keys
// add_shape_json writes (exports order their columns by it), and a network
// file's request carries no method.
#include "frontend/builders/request_json.h"

#include <gtest/gtest.h>

#include <set>

namespace palsim::frontend {
namespace {

TEST(RequestJson, ShapeOptionKeysAreTheKeysTheWriterUses) {
  NetworkRequest r;
  r.network = "shufflenetv2";
  r.input_size = 32;
  r.input_channels = 1;
  r.classes = 10;
  r.base_width = 8;
  r.stem = "small";
  r.blocks = std::vector<int>{1, 1, 1};
  r.projections = "keep";
  r.width = 0.5;
  r.cyclic_groups = 2;
  nlohmann::json j;
  add_shape_json(r, j);
  std::set<std::string> written;
  for (const auto& [k, v] : j.items()) written.insert(k);
  const std::set<std::string> listed(shape_option_keys().begin(), shape_option_keys().end());
  EXPECT_EQ(written, listed);
  EXPECT_EQ(listed.size(), shape_option_keys().size());
}

TEST(RequestJson, ANetworkFileHasNoMethod) {
  NetworkRequest r;
  r.network = "net.yaml";
  r.method.method = Method::kLsq;
  const nlohmann::json j = request_json(r);
  EXPECT_FALSE(j.contains("method"));
  r.network = "resnet18";
  EXPECT_EQ(request_json(r)["method"], "lsq");
}

}  // namespace
}  // namespace palsim::frontend
