"""Seeing inside recurrent networks: gradient flow through time, recorded gates and states, and the
long-dependency experiment (adding problem, copy memory) with its remedies.

Sits between training and reports: it imports the cells, layers, models and training, and hands
plain numbers to ``rnnkit.reports`` for plotting.
"""
from ._experiment import ExperimentConfig, RunResult, experiment_summary, run_experiment, train_one
from ._gates import GATE_NAMES, GateRecord, Recording, gru_gates, lstm_gates, record_gates, rnn_gates
from ._gradient_flow import (FlowCurve, GradientFlow, gradient_flow, loss_gradients, state_jacobians,
                             step_jacobians)
from ._tasks import TASKS, Task, TaskBatch, adding_batch, copy_batch
from ._trace import DirectionTrace, trace_layer, tracing
from ._variants import VARIANTS, Readout, Variant, build_model, init_layer, variant

__all__ = ["ExperimentConfig", "RunResult", "experiment_summary", "run_experiment", "train_one",
           "GATE_NAMES", "GateRecord", "Recording", "gru_gates", "lstm_gates", "record_gates", "rnn_gates",
           "FlowCurve", "GradientFlow", "gradient_flow", "loss_gradients", "state_jacobians", "step_jacobians",
           "TASKS", "Task", "TaskBatch", "adding_batch", "copy_batch",
           "DirectionTrace", "trace_layer", "tracing",
           "VARIANTS", "Readout", "Variant", "build_model", "init_layer", "variant"]
