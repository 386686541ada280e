#pragma once
// BPVeC arithmetic (Ghodrati et al., DAC 2020).
//
// A Narrower-Bitwidth Vector Engine (NBVE) is a vector of 2-bit multipliers
// feeding one adder tree: the dot product of two vectors of 2-bit slices.
// A Composable Vector Unit (CVU) groups NBVEs: for wider operands each NBVE
// takes one pair of bit-slices (i, j) of the same two vectors, its result is
// shifted by 2(i+j), and one aggregator sums the shifted results. The shift
// and add are paid once per vector, not once per multiply.
#include <cstdint>

namespace palsim::kernels {

// sum_k a[k] * w[k] over 2-bit slices; a slice marked signed is sign-extended
// (values -2..1), otherwise 0..3.
int64_t nbve_dot(const int32_t* a_slices, bool a_signed, const int32_t* w_slices, bool w_signed,
                 int length);

struct CvuOperands {
  int a_bits = 2;  // 2, 4, 6 or 8 (a multiple of 2)
  bool a_signed = false;
  int w_bits = 2;
  bool w_signed = true;
};

// Number of NBVEs a dot product of these widths occupies: (a/2)(w/2).
int nbves_per_dot(const CvuOperands& ops);

// Dot product of two length-`length` vectors of a_bits/w_bits operands,
// computed as one NBVE per slice pair, shifters and one aggregator.
int64_t cvu_dot(const int32_t* a, const int32_t* w, int length, const CvuOperands& ops);

}  // namespace palsim::kernels
