#pragma once
// A network: layers in topological order (every input precedes its user),
// with shapes inferred from the input shape. Shape errors name the layer.
#include <map>
#include <string>
#include <vector>

#include "frontend/ir/layer.h"

namespace palsim::frontend {

class Network {
 public:
  Network() = default;
  explicit Network(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Appends a layer; its inputs must name existing layers. Returns its index.
  // Throws InputError on a duplicate name or unknown input.
  int add(Layer layer);
  // Convenience: a layer whose single input is `input` (index).
  int add(const std::string& name, LayerAttrs attrs, std::vector<int> inputs,
          LayerRole role = LayerRole::kBody);

  const std::vector<Layer>& layers() const { return layers_; }
  // For changing layers' attributes; a layer's inputs are fixed once added
  // (consumers() is kept as layers are added).
  std::vector<Layer>& mutable_layers() { return layers_; }
  const Layer& layer(int index) const { return layers_.at(static_cast<size_t>(index)); }
  int size() const { return static_cast<int>(layers_.size()); }
  // Index of the layer called `name`, or -1.
  int find(const std::string& name) const;
  // Indices of the layers that read layer `index`, in order.
  const std::vector<int>& consumers(int index) const;
  // The last layer (the network output).
  int output() const { return size() - 1; }

  // Infers every layer's output shape; throws InputError naming the first
  // layer whose parameters do not fit its inputs.
  void infer_shapes();

 private:
  std::string name_;
  std::vector<Layer> layers_;
  std::map<std::string, int> index_;
  std::vector<std::vector<int>> consumers_;  // by layer index
};

}  // namespace palsim::frontend
