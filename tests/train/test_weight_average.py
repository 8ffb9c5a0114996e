"""The weights a run validates and keeps are the exponential moving average of the trained ones (train.ema_decay)."""

import torch

from lavimo_core.model.config import preset
from lavimo_core.model.lavimo import Lavimo
from lavimo_core.train.loop import weight_average


def test_average_follows_the_trained_weights_by_the_decay():
    torch.manual_seed(0)
    model = Lavimo(preset("tiny").model, 384)
    assert weight_average(model, 0.0) is None          # off: the trained weights are the kept ones
    decay = 0.9
    averaged = weight_average(model, decay)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    expected: dict[str, torch.Tensor] = {}
    for step in range(5):
        for p in model.parameters():
            p.grad = torch.randn_like(p)
        optimizer.step()
        averaged.update_parameters(model)
        # The average starts from the weights after the first step, then decays towards each new step's.
        expected = {k: v.clone() if step == 0 else decay * expected[k] + (1 - decay) * v
                    for k, v in model.state_dict().items()}
    kept = averaged.module.state_dict()
    assert kept.keys() == expected.keys()
    for k in expected:
        torch.testing.assert_close(kept[k], expected[k], rtol=1e-5, atol=1e-6)
    name = next(n for n, _ in model.named_parameters())
    assert not torch.equal(kept[name], model.state_dict()[name])   # ... and differ from the last trained ones
