"""Optimisers, clipping and schedules are torch's, wired from the config."""

import pytest
import torch

from rnnkit.training import (
    TrainConfig,
    clip_gradients,
    gradient_norm,
    make_optimizer,
    make_scheduler,
)


def big_gradients():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    loss = (model(torch.randn(8, 4)) * 100.0).pow(2).mean()
    loss.backward()
    return model


def test_optimizer_types_and_arguments():
    params = [torch.nn.Parameter(torch.zeros(2))]
    adam = make_optimizer(TrainConfig(lr=0.01, weight_decay=0.1), params)
    assert isinstance(adam, torch.optim.Adam)
    assert adam.defaults["lr"] == 0.01 and adam.defaults["weight_decay"] == 0.1
    sgd = make_optimizer(TrainConfig(optimizer="sgd", momentum=0.8, nesterov=True), params)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0.8 and sgd.defaults["nesterov"]
    assert isinstance(make_optimizer(TrainConfig(optimizer="rmsprop"), params), torch.optim.RMSprop)
    with pytest.raises(ValueError, match="momentum"):
        make_optimizer(TrainConfig(optimizer="sgd", momentum=0.0, nesterov=True), params)


def test_adam_is_fused_and_steps_like_the_per_tensor_loop():
    torch.manual_seed(0)
    start = [torch.randn(5, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)]
    gradients = [[torch.randn_like(p) for p in start] for _ in range(4)]
    fused_params = [torch.nn.Parameter(p.clone()) for p in start]
    loop_params = [torch.nn.Parameter(p.clone()) for p in start]
    fused = make_optimizer(TrainConfig(lr=0.01, weight_decay=0.01), fused_params)
    loop = torch.optim.Adam(loop_params, lr=0.01, weight_decay=0.01, foreach=False)
    assert fused.defaults["fused"]
    for step in gradients:
        for optimizer, params in ((fused, fused_params), (loop, loop_params)):
            for p, g in zip(params, step):
                p.grad = g.clone()
            optimizer.step()
    for a, b in zip(fused_params, loop_params):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_clip_by_norm_caps_the_global_norm_and_returns_the_norm_before():
    model = big_gradients()
    before = gradient_norm(model.parameters())
    assert before > 1.0
    returned = clip_gradients(model.parameters(), clip_norm=1.0)
    assert returned == pytest.approx(before, rel=1e-5)
    assert gradient_norm(model.parameters()) == pytest.approx(1.0, rel=1e-5)


def test_clip_by_norm_keeps_the_direction():
    model = big_gradients()
    direction = torch.cat([p.grad.flatten() for p in model.parameters()])
    clip_gradients(model.parameters(), clip_norm=0.5)
    clipped = torch.cat([p.grad.flatten() for p in model.parameters()])
    torch.testing.assert_close(clipped / clipped.norm(), direction / direction.norm())


def test_clip_by_value_bounds_every_element():
    model = big_gradients()
    assert clip_gradients(model.parameters(), clip_value=0.25) is None
    for p in model.parameters():
        assert p.grad.abs().max() <= 0.25


def test_schedulers():
    constant = TrainConfig(lr_schedule="none")
    optimizer = make_optimizer(constant, [torch.nn.Parameter(torch.zeros(2))])
    assert make_scheduler(constant, optimizer) is None

    config = TrainConfig(lr=1.0, lr_schedule="cosine", epochs=4, min_lr=0.0)
    optimizer = make_optimizer(config, [torch.nn.Parameter(torch.zeros(2))])
    cosine = make_scheduler(config, optimizer)
    lrs = []
    for _ in range(4):
        optimizer.step()
        cosine.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.8535534, 0.5, 0.1464466, 0.0], abs=1e-6)

    config = TrainConfig(lr=1.0, lr_schedule="plateau", lr_patience=1, lr_factor=0.5)
    optimizer = make_optimizer(config, [torch.nn.Parameter(torch.zeros(2))])
    plateau = make_scheduler(config, optimizer)
    for loss in [1.0, 1.0, 1.0]:  # no improvement twice in a row: halve
        plateau.step(loss)
    assert optimizer.param_groups[0]["lr"] == 0.5
