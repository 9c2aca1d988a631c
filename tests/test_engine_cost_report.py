import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from reid_lib.engine.cost_report import format_cost_table, main, measure_cost, synthetic_batch
from reid_lib.losses import ReIDLoss
from reid_lib.models import build_model


@pytest.fixture(scope="module")
def cost():
    torch.manual_seed(0)
    model = build_model(4, backbone="resnet18")
    images, targets = synthetic_batch(4, 2, (96, 32))
    return model, measure_cost(model, images, targets)


def test_synthetic_batch_is_p_by_k():
    images, targets = synthetic_batch(3, 2, (64, 32))
    assert images.shape == (6, 3, 64, 32)
    assert targets.tolist() == [0, 0, 1, 1, 2, 2]


def test_rows_hold_module_parameters(cost):
    model, result = cost
    rows = {row.name: row for row in result.modules}
    assert rows["msg.tsa"].params == 10
    assert rows["backbone"].params == sum(p.numel() for p in model.backbone.parameters())
    assert result.params == sum(p.numel() for p in model.parameters())
    assert "backbone.layer1.0" not in rows  # depth 2


def test_conv1_flops_match_hand_count(cost):
    _, result = cost
    conv1 = next(row for row in result.modules if row.name == "backbone.conv1")
    # 2 FLOPs per multiply-add: out channels x in channels x 7 x 7 x output positions (48 x 16)
    assert conv1.forward_flops == 8 * 2 * 64 * 3 * 7 * 7 * 48 * 16


def test_top_level_rows_and_loss_add_up_to_the_forward_total(cost):
    model, result = cost
    top = sum(row.forward_flops for row in result.modules if "." not in row.name)
    images, targets = synthetic_batch(4, 2, (96, 32))
    output = model.train()(images)
    with FlopCounterMode(display=False) as loss_only:
        ReIDLoss()(output, targets)
    assert top + loss_only.get_total_flops() == result.forward_flops
    assert result.backward_flops > result.forward_flops
    assert result.total_flops == result.forward_flops + result.backward_flops


def test_table_lists_every_row(cost):
    _, result = cost
    table = format_cost_table(result)
    for row in result.modules:
        assert row.name in table
    assert "forward + backward" in table


def test_main_prints_the_table(capsys):
    main(["--backbone", "resnet18", "--height", "96", "--width", "32", "--num-classes", "5"])
    out = capsys.readouterr().out
    assert "full model (resnet18" in out and "msg.tsa" in out and "batch 8 x 3 x 96 x 32" in out
