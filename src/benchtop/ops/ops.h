// All differentiable ops.
#pragma once

#include "benchtop/ops/attention.h"
#include "benchtop/ops/conv.h"
#include "benchtop/ops/elementwise.h"
#include "benchtop/ops/linalg.h"
#include "benchtop/ops/loss.h"
#include "benchtop/ops/norm.h"
#include "benchtop/ops/reduce.h"
#include "benchtop/ops/rnn.h"
#include "benchtop/ops/shape_ops.h"
