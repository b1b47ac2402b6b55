"""Domain lexicon: cue words for each label, written from the label definitions.

The corpus is group-chat style; real requests also come as formal letters and platform titles
("无证洗车，污染环境"). Category features ("k:complaint" when any complaint cue occurs, "k2:..."
when two or more do) let the model carry what it learned about a label's chat cues over to
cue words the corpus rarely uses; `none` has cues too (notices, thanks, ads, small talk), so
that chat in an unfamiliar register is recognised as chat. The model learns their weights.
"""

from __future__ import annotations

from nlp.labels import Label

_CUES: dict[Label, str] = {
    Label.REPAIR: """
        坏了 坏掉 损坏 破损 失修 年久失修 不亮 不能用 用不了 失灵 故障 维修 修理 修复 报修
        没人修 漏水 渗水 漏雨 堵塞 堵了 塌陷 坑洼 坑坑洼洼 脱落 松动 裂缝 断了 停水 停电 没水
        没电 跳闸 水压 关不上 打不开 生锈 老化 不通 电梯 路灯 楼道灯 声控灯 门禁 单元门
        防盗门 水管 下水道 井盖 屋顶 外墙 墙皮 地面 破了 裂了 掉了
    """,
    Label.COMPLAINT: """
        投诉 举报 违建 违章 私搭乱建 违规 违法 非法 无证 占道 占道经营 扰民 施工 夜间施工
        彻夜 污染 排污 偷排 乱收费 霸王条款 捆绑 强制 欺骗 传销 不作为 刁难 态度差 推诿
        敷衍 黑心 乱停 违停 商铺 店铺 工地 开发商 物业公司 监管 整治 查处 乱象 坑人 骗
    """,
    Label.INCIDENT: """
        垃圾 堆积 堆放 成堆 没人清理 清运 恶臭 发臭 臭味 异味 蚊虫 蚊子 苍蝇 老鼠 鼠患 蟑螂
        流浪狗 流浪猫 隐患 安全隐患 积水 倒伏 杂物 消防通道 堵住 僵尸车 可疑 陌生人 小偷
        粪便 污水 马蜂 危险 倾斜 塌了 倒了 脏乱 卫生差
    """,
    Label.DISPUTE: """
        邻居 楼上 楼下 隔壁 对门 邻里 狗叫 遛狗 狗屎 拴绳 宠物 鸽子 种菜 装修 油烟 摄像头
        车位锁 地锁 占用 吵架 矛盾 纠纷 调解 敲门 跺脚 半夜 滴水 广场舞 谁家 他家 你家
    """,
    Label.INQUIRY: """
        请问 咨询 如何 怎么 怎样 何时 什么时候 哪里 在哪 哪个 多久 是否 办理 政策 补贴 医保
        社保 公积金 户口 落户 入学 疫苗 接种 老年证 证明 手续 材料 流程 求助 帮忙 困难 能不能
        想知道 想了解 吗 ？
    """,
    Label.SUGGESTION: """
        建议 希望 增设 增加 设立 设置 加装 安装 改进 完善 加强 应当 应该 呼吁 提议 倡议
        加快 优化 改善 合理 考虑 最好 组织 开展 举办 恢复 规划 能否 有待 提高
    """,
    # Ordinary chat: staff notices, thanks and greetings, group-buying and ads, forwarded news,
    # small talk, and problems already solved.
    Label.NONE: """
        通知 公告 提醒 敬请 届时 告知 周知 请大家 接种点 核酸
        团购 接龙 拼团 优惠 特价 出售 转让 出租 招聘 广告 下单 扫码 私聊 私信 加微信 包邮 折
        谢谢 感谢 辛苦 点赞 早上好 晚安 哈哈 笑死 祝 快乐 恭喜 新年 开心
        转发 分享 据报道 新闻 视频 热搜 微博 网友
        吃饭 天气 下雨 好热 好冷 散步 孩子 上班 下班 周末 放假 旅游 好吃 好看
        修好了 已解决 恢复了 已处理 搞定
    """,
}
# Cues of up to three characters are matched as character n-grams, longer ones as jieba words.
LONGEST_NGRAM_CUE = 3


def cue_words(label: Label) -> tuple[str, ...]:
    """The cue words of one label."""
    return tuple(_CUES[label].split()) if label in _CUES else ()


def cue_index(word_prefix: str) -> dict[str, tuple[Label, ...]]:
    """Feature name -> the labels it is a cue for (longer cues as prefixed words)."""
    index: dict[str, list[Label]] = {}
    for label, cues in _CUES.items():
        for cue in cues.split():
            key = cue if len(cue) <= LONGEST_NGRAM_CUE else word_prefix + cue
            index.setdefault(key, []).append(label)
    return {key: tuple(labels) for key, labels in index.items()}
