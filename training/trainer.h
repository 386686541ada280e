#pragma once
// `palsim train`: trains a network built by the project's builders (or read
// from a network file) as the accelerator's hardware graph executes it
// (quant_plan.h, train_model.h), on an image dataset (dataset.h).
//
// RUN_DIR receives:
//   config.yaml    the resolved configuration
//   network.yaml   the IR network trained (palsim-network-1)
//   checkpoint.bin after every epoch, atomically: every trained value under
//                  its stable name (quant_plan.h), BN running statistics,
//                  optimizer states (SGD momentum, Adam moments and step),
//                  the epoch, the per-epoch metrics; array_file.h format
//   metrics.json   per-epoch loss, accuracy, images/s; final test accuracy
//
// Determinism: the weights are initialized from training.seed; epoch e
// visits the training images in an order drawn from
// std::mt19937_64(seed * 1000003 + e) (and reseeds torch's generator with the
// same value); the learning rates of epoch e are a function of e. A run that
// finds a checkpoint in RUN_DIR resumes after its epoch and ends with exactly
// the weights of an uninterrupted run — with the same training.threads:
// torch's reductions split work by thread count, so another count gives
// (slightly) different bits.
#include <memory>
#include <string>
#include <vector>

#include "training/config.h"
#include "training/dataset.h"
#include "training/divergence.h"

namespace palsim::training {

struct TrainOptions {
  bool progress = true;              // per-epoch progress lines on stderr
  int stop_after_epochs = 0;         // > 0: train at most this many epochs in this call
  const DataSplits* data = nullptr;  // datasets to use instead of the configured ones
  // Diagnostics (step_trace.h): one JSON line per step for the first
  // trace_steps steps of this call into trace_path ("": none).
  std::string trace_path;
  int64_t trace_steps = 200;
  // > 0: stop after this many training steps of this call, mid-epoch, without
  // a checkpoint (a look at the first steps of a long recipe).
  int64_t stop_after_steps = 0;
};

struct EpochMetrics {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_accuracy_percent = 0;
  double test_loss = 0, test_accuracy_percent = 0;
  double images_per_second = 0;  // training (forward, backward, step) only
  double seconds = 0;            // the whole epoch, evaluation included
  double lr_weights = 0, lr_quantizers = 0;
};

struct TrainResult {
  int start_epoch = 0;    // epochs already done when this call started (resumed when > 0)
  int epochs_done = 0;    // after this call
  bool complete = false;  // all configured epochs done
  std::vector<EpochMetrics> epochs;  // every epoch so far (also the resumed ones)
  double final_test_accuracy_percent = 0;
  bool exportable = false;
};

// Trains (or resumes) into `run_dir`, which is created if missing. Throws
// InputError (FileError for configuration problems) on bad input or a
// checkpoint of another configuration, and TrainingDiverged (divergence.h)
// for a diverging run: metrics.json then records "diverged" (epoch, reason)
// and the diverged epoch's checkpoint is not written.
TrainResult train(const TrainConfig& config, const std::string& run_dir,
                  const TrainOptions& options = {});

constexpr const char* kCheckpointFile = "checkpoint.bin";
constexpr const char* kMetricsFile = "metrics.json";
constexpr const char* kCheckpointFormat = "palsim-train-checkpoint-1";

}  // namespace palsim::training
