/// The public development keys of `Keys/` (`dev-namespace-1.pem`, `dev-namespace-2.pem`, `dev-namespace-3-pkcs1.pem`),
/// built into the binary so that `--deterministic-ids` needs no checkout (the binary alone, or the Docker image): RSA
/// cannot be generated from a seed with swift-crypto, so in that mode namespaces take these keys in turn, and the same
/// namespace signs the same token bytes in every run (RS256, PKCS#1 v1.5, is deterministic for a key and a payload).
/// They are public test material: never use them for anything real. A test keeps them equal to the files.
public enum DeterministicKeys {
    /// The PEMs, in the order namespaces take them.
    public static let pems: [String] = [
        """
        -----BEGIN PRIVATE KEY-----
        MIIJQQIBADANBgkqhkiG9w0BAQEFAASCCSswggknAgEAAoICAQCVZ75ti2kWvseo
        pTHoZJFUaWk5xeMXr3IEhITWl2eubxpjXre5tG46ivDyFPECtlchVyqdX/H5KOv7
        dECQW/KXeiQ6CaiMllvg9iVysQcQYSSvbLvR82sGfsAnFSW25IAlxfsOKBxwx1qu
        bmLc5MjKvdub8HPGafB42CRDtuaNEEGTTS5zBFzaoaZKmyWRHiIsl17SGf/xw3D8
        658um765GM+FtnpYoJAHC+SmGGXNlNT9/PpG9CcDW24601gBiLWgJxtwVZ4UHbDd
        47DRufqiKcwx2l4ZP1JTP7hp8Ry6cCeJQJVBERHArKMfSIYKX4XzFrup9pct9nWq
        LOqREZR21H7UpUUpCITnD4R+d30iJPw3zkkMbkIbKby03ULtpScdxYqCevn7Nl3+
        JBckUWprmd4ue7kjLfzL5hC/2BBZBRctwFNPWV7wshQCSS13LoyhaR6pSglXmEPS
        xYruHsLN4gkJscioScDlni3JY57MG3lQa/tECLlyZ1pwBzsuFvwbayxAFxy6kWXl
        Ua5T0OyWqZsGim8600kMxVCNsmUQLoLcUu5cv7PlRDT7DHcACM5fma1plISFFpD3
        ehXoMCty3hn/gQn6cliBq7h7vrAcWNTIGhcg675R6yajfTuNQq4uc0+OZzEY4ECW
        ahO39qbK95+Pj5sqIVQCXvWX2dxykQIDAQABAoICAAsvKvg0WXeUbInZY/ULoj15
        bqEeiTN6tMRVz0PpLZ/HPWh27LYAJchIImVc3/XeBIPAbLY/OnP2dkPqnfKwj2Z7
        hD67/lwX3WTnyEHfsrGtM/vV3fGHkVl5H5VNZfdc/6LUQUj8A7UFl2o7ZTc4ATf8
        InZ395LA13mUZJKVHIku0Fngizuc9f5/31zyZEuKv/AqnLSJsbk9cjXcxZvNmOdu
        TgqqcFo2GtIMN9+fL+/F1nP0/h9Vo54CuCu7Knli7IXCp7EvF5hV6KmTo+bvTy3Y
        hyqsOCMXtGf6+ykjHY1vW+ZQaVvnlTahNczftvkL0ZEzAHVmukZ8jq5gkmattDlb
        utZkq843HZpCvtpKMKXx+IRwYAw3SdEtN7m21RDt7aqdZ4DEXFGa6hQc9wIqD7Rl
        IlpDRscN43xFHIORK4fHTABvhxOiQJvTA4kyr5cPu+043zQwwsAt/M7EqmK1s6PX
        +ulBslnptcH4mv9PGvb1FvyPqTuv2Dgkm2x7515zCJVRIMXIsTdwPGLjcTiUPxL8
        X7HQBpTKTTSN5aWQSvx8NsHKvXglYqPgJNvLdJ1rs36HcE9aSrRo09zvPzBg9g3F
        +V7stks8XKDV+8FoC4NFufFWzRtYkTN96vOuFVY5+xBeLYLsVDlwp3Uqf9cHuSHy
        OQSSFgkBPDD01xoySWOJAoIBAQDM9L7DSfB2j65N4nawwPE6NMY/tl6ZgjZkXsFj
        nrctkxnBCwAoT7p9vEN5ebu7MTqcZ1g2ztFZmfxR8XxmeIoc/PmudK2vi9tPHCT7
        vBI+i4cZvxVLa0CSBMrvRKrx2m4Ky22c8tuKi14SaT4tgU6uglbKUEWg48f6LwNC
        LDJDnyeTKCoOWoec7s0RbyE/duV+NP11+kL/HVldjaJLzVAw3PHG5iQ7osnfh0KO
        WhvmFzkhi53pY21Jbd5r8bym3D4m1qVp1kov2S3wq4yrMfwwW8YdNDoYcEKBk3OI
        olAXeZ5PGhUSuK9t1fcmq8XKmekpWR9UDySIV1Qx7AdA7jgDAoIBAQC6nUgbRAT3
        nbHMUvlsnyvgHCoFup5rjQuKJYwF97b9PB1SWJK3ATAq7LY6k29rO6wX7uJ/uKBG
        bOz6QGpIasdZc3JmAsjViiFoba2Y9b0N55aq+yBdBBtefCW2R4wesjv1x4MAtrhk
        o9tUZ8U7NvN0y3lw8Q4A8EdYAbo90COrwYoJKnGWbhOSD50CJVCMQn2KBPgVYChP
        oZXQN5/YhwLtuGNR8ObcNjGvknxCZXs8PINNgi9Ng3hBl0Pj3kRd30qhZEiNsY1D
        pwbIsOse7K48B4K7Ut/ZpHgHc5YtHBe9CTwQsxF/gxGh9W7XcXesgu7HwSBxQwQR
        /AtRP3dE8NjbAoIBABWOhGXr5/PAZvfgItWyZWzW0icvWkHRFUF3SeXdcqzDdQj9
        zDVxNU82Nu6W5CzrH5wFrpyNIi3HaWeA+7GXagdkgCpeMUpublGixy0G+fBEIqCN
        nYLCNBdnk6SY11X6wGo4PT4tuPOYdvt+wEBvAkSOhuxehwRGEOl6emBCX8MHAVWT
        +uBpmyvhXgZAZwHS0o50qlf3S4ajopuZYwGQBaguBOwDlroDBDKTemeYiKiptqOV
        mLVMdNktSiCWW149efgByYIZPNJNiGxwzqnO5xR7AppdvOKHJCeWx6cOU1g0vXba
        am7+p8zonUce9/24NHLZ4daohRImBT/+8EBfDdsCggEAPcdT17Ls8gyCj+HoMM2A
        +PBZ+QuO5owLBfDoKhGXwr3j9x7bczoxeARlT37/o8BdeI7c7OtyI95rlW09wjuX
        Q0W02ZCSbB8OcEPe9IRl0fSZLIF2dVSmuuDemzmUaZUXxIYIGHRlFuwn8Alqge/v
        KPszePBUcnsZI0lvHoeJR5MK333tnJ9UW0ZP9CXmRIi+hrKebnUm4zXbItNHV6da
        kNg6CSZ3Ru+qAzW7bT+rTIW78izm/AJKDWzGTOmIOItzaXqJil79JShmVoo7TEGO
        bNEPtnP5J1QLaGwbi1OBiFNGT0D4yf3aGIPn7eric3nlErwcwWIuNsX5+SvJkEkr
        gQKCAQAyIhCxk2kXVd5g9dArrDDPSfMJDu/1sSk1Ec92yTu9om1BhjDwO207C+bq
        4w6oh9Mqy0AZj10sFJ3kJroghGu8P6bZcMfXa1V/NxkeH4SMAfZHlk/RkF314mVQ
        56WDL9pv0gqy4C/+9yc+2jWrfenpuTGHAnrpFbDBl5+4RVCSHYFvwHyx2q0/VoSE
        0yyW/6pLio9568l/o6T4oJbalG5jWOM5oa8xAMSDPh/v7l3uvNk/wv1R0gvZDNGn
        U4iqhXUWWFDZ6lB0K/HLUe1nyUWmJwhN5tSo9WYgN+1vNPBgcqbA/OWpa1KYgYC/
        5fDOog6wpFtSd6JYCFa1eUZqwkhJ
        -----END PRIVATE KEY-----
        """,
        """
        -----BEGIN PRIVATE KEY-----
        MIIJQAIBADANBgkqhkiG9w0BAQEFAASCCSowggkmAgEAAoICAQDAJfNk0OHR3H9M
        f8c2+CAiUnYuyroWztDLqoLNYheBTpXvgSWgXBfb1+8VTmmy4KSLZZpQIouac/AY
        DQKvvAu78w40ugF652Ih0DgndOgCEKxH/3FCqUoBIFYJW7wOHjsc0ayv5FUaQ9Ui
        Z+lY0xTpDIUrvwInKqGgD0o7bVWTdeS3puaMgB2ed/L94a9BteluYM9c8bL90mAn
        +b+Rk1ddz0a8Fk0wtrQ49bmAxD/a5bmAecYy9jaXzuxpVdawK9OBSkID4dh+V5cy
        qeiX0IkD2AVp7NB5UeRjmQ7T/JuYIFnynqJo7WNIkT9nUnKnVEu0lzQGOfQGT4YE
        85bqZX6HyfeaU91wg1lmZTvJXojvn1nG0u7EQtxi1362oPypmozJPIfqlvm9dFB9
        zsj7RUquTpzAhzJ16kbydKrUTWxGXkjz1lhZkYFR8mAUcPvmYM/srnSEx6rCIKZl
        MNYM6W5XQ2uPthb85YGRveMA/USdJo6/5tneQBjTi0iWBrmlqfWkI8x0TikljPeX
        GscfCbC5tpzmN8qAQEo9/i5eVce/PAAfGJ7wFkEXKzmUl7qZMvB/6ZMcN0HlKR4/
        iw+tebagjmrnQ/Cx8C0ohqUv6Yz63xaQmD2Rjw7HoWu1pYJlxyry0P9RMV1AACrT
        PWKrD6FK5bSSzlFuJzwbWZU4t/JoIQIDAQABAoICABjUbqI0VJIZbmvKG/SwVfq0
        HD3fXZ0NPFxX3DpCdutzO8XXiFoIvIk2BgOt/n5VMCjWnX0bJwjI+u7TXj8A9k/j
        JeP4tgXrTjo0ss+fzaFYBTidO5tpI+fcWrHajwUQsVkqhn2zlwRjXUXqa/QvUVrs
        5BfrQWcinQCBfqQKSg4u+bolEP15SsU2a98/NuCva2BOQKLv6s4zotBXoi041Iff
        Up0t5pX+bhs+3v9S8jYiYc5xLgRaM7jPTlaC91C3AR21JQMPwA782PbSOlJv6gdl
        9rZ27y5WP5oCkTDMn6X7ZumGx/xLfNJyTowBUqaT1TVGJWdj6B2ZUNC6p4xXnDoi
        DOqioYTtDBz2Jiu6GeCcV3hdXmm9ExmrMKefbwyADHHzQHEcvhPmvVaRCn7GGMvq
        2TWN9CjXhkZae/1essuX2y4gIm00HYsWGXH+VnWCZ1bL+dRskXzYyzGS4ROyNvWb
        xY3Pv0I+/53rTUxacuM23PV298NYFRIzJTQnbImWcT3FU+cyQV3Zi2zKV/r4kry0
        Z/5V9xAKWyPKZRruAGDEaF8rXajQIfXcuqgZjHv4fIQemEFHhREr/Hz7Q0mDS82A
        SG58VG19YO4ZOcjjCZg5vuKWgqqOk1XZRwZGLxMIdqecYrcYICiYaATXdnN3VNZF
        40yJNk8zsLRfVFdQZ1L3AoIBAQDuo1/4UHYwKBoLmMv+tGT3fXmXbxt0n7ZvZ4Xn
        31LBS5abKl1oFsXpFlJOZVreKWkBdf+NUSTGa9Gm4TgLLU+VUcSG/OeQ+aUqEuw7
        CjBBEi+78dzLf1RkNdIo7+KLjfbFewkTL1+ycEimRPcHZx9NrGv+ydnK737+7bk7
        GkvM3NKFFhk1w4EWBmgu/ag/V6o5N7VvRuuxTLzuYc+JmDJbo+D7MnFvGBO3mQpZ
        XDoYmDSCfKV7pd6eZJmLKJwa6fgxiHXepy2pvor8aksLtg9lI88t2JMsjGbvOwEl
        9GSSohPnqcJpvNQiISFQFEuT2HzRHX3bK2KDd5n/38X54aALAoIBAQDOILPzRJBT
        p6cO0nzLVvicOFs2gfLPc3XUk2zLZIJZewPLoMyC5A5Ob3+zmrvROtVgQxSxqbFR
        BhyYIbXuo5iMVYX+6uojjWMWCwZAIz2JYRJWmmdYMV8BnczXM5QP1kF3KyLtvP9E
        nUA83gxORCM28eKxZcVvmhqt6qAJjgoydRCPAictmbU0LJjqBT8XwwSflniFkOVS
        SoG8W0G06mZJQQZLv8TQhQYr6hx6UHDMK13k5b/WUOG/RxF+ngmehYlCmlhNmxQf
        i6poVRQb5i/1csxgaAjfL1UQk9Z74F7q22woao6bt5hKiiDcbL1ZfG345MbA34zZ
        9HnaTKGzNZgDAoIBACckyVMz748KpOsODzgiYwVtoYpDgV9p60Tu2Domma53NacS
        FexDAAexz6JoYbVbWYwRzO9jRgL+II+dFdJPhmRZ20DBL0LKkFsMa49rpmqmDwpn
        K+59Xlxpr6VjY+e8S6QtAFoTRUFBxcjwOw0Nz0awZ66NcZomGtC6Mc4ODCz4c9e8
        vjnhbcUtG93JYdWyDYwBJVOxcGvOyJbZmG9bdbcudHL/3Td53ZIaGmZ6CFWMceCN
        jZ9wn8mfesgmyyRnCH0ngx4Ykhbr2GR7EwBCxteyPgOpKMr/5MqNBS0yn2SmDVnM
        sMUjYjCO+qXmDlecBS1QBxryTOB/t9UO4ayRY+0Cgf8ndBr9dSIq4OwY6jD4uqzb
        Oe47gKP5ESB8j7tDMvnAJsuTLjP22a/jU3Qd7IAGjDxLMIvFdbV6zLCsbcdk5etM
        8RG0uUIXi/hrP7Dylcwxf2MDMIqXVtvYc1vB1R2B6oCdTqRg3Mv/Vhn1jIrOcDxN
        R/8b9V7U/aodn8sCCS3qen2w4bieAc2tLtwV7uskoS9BXIu1BQbfuWMbqlvpRPRP
        ESMjXJFPWCbWQPkycDMm4SYXqeIOI20SL4gptBYjQWwEU4aTVBuF7jWvwpkWvfhw
        Aokb6s3H6kdd5O4ox8ljKpyJH9wr8fg0TDv99NJJToe+HAvu3tsW3LR2FDTfGGMC
        ggEBAJj3n3+BlH+iInMhKArhPpbvIZOvLiqi6zZ9Nv6VExoDG9lsmdL4Vl0SOVKc
        WCyp55zEyh+2z9KjXaf2zpe5g2V5V9FV0jetNXk7yO3RpvATuO8hyF8wn4eyOFSg
        qqV8ueKjZF5e5XQ7BBRIgHMLiuH4HfoyQcZ9OG/XJYIDO0ozXQ+QUeo2KiVJ65Vh
        t0Kmcu5Mt/bzE84t9aiHPU7sivTwf09QBynXE8Ne2JDxP/7tSTPGMA27pJ1JnotU
        z4oETxTGJXYfXn0+DazDcvR1gVw8deje5kzx9Py7ga4AZHz60xj80hVoIMSGVSyh
        4SV195oydaGF8LutPOC4BAx9nxg=
        -----END PRIVATE KEY-----
        """,
        """
        -----BEGIN RSA PRIVATE KEY-----
        MIIEogIBAAKCAQEAuDbS6cAXvNeRwvBbTfeK6/Io23f2cyy1uvSxE4x18EmeIDCY
        IEkez+lYWHinrmEQbQGF5eGJqMIunao3FaXhfoGVC/ZoZ+R5hguQSsBC16EtlNhg
        7BSRfkH3kGwCP9tGeZ2pRZwdvHNomYijgCMLoNYhLJQeQcvFmHpzHTRVrIVSlw7H
        fKq7ZkpB3f3FOySrVfzxsulb6wLxvV1KKk95QazaygB1fGoqIs8ZGWjloJTWjmRe
        mD++4ZNiTiiYTc5U6NZZdisu+5/92YpuoqWs4MsltU+ZBb3V9tGby4ChGuS1A9y6
        B2q5pLh17Y5Ipla0lrY61Wiaxa+1KTWsv4QNpQIDAQABAoIBAB+yp1Y7jJodCeLe
        Uwe2ebwh3i/tk4W8AsVZx4KSn9SqBkCJvBOKIXgrMd1/XXMfFqF7Kpwk0/gq+bR9
        jp71/Tg0ef4l908xPEv5f2mtbZMHE/3RwdO9sk9kcIH0Y+qzA4x3uaHVvDQqM6x/
        m4q3/Q8+6VRvZEl0E9sp7tbuo3Nc7oGHNdeqTux7Gw0UM//IBG3vOQSQ0DaIuvKz
        SCyKgtL/w7fHUbZ1EnE7Gs3lG1cbzDSKXgCF9LASuDXyCpzBuVDU7ivg66g+V3hd
        8Si2up2DEK1OcYVQ8dPYUymSO3hOPftk1a7E4/TmmWxEmZdi1J9p+VOoLVUynQJe
        Q0XpqEECgYEA75bmTQ8ehuTKEvdIob2ZPOX8EZp/sopz6fhEgQhSNBbmA7oTBhIS
        nmlcGCotMt0DcCYNvOFFfsRnTXMAq4PTMtTrpju4wo7B2S60NkljBk5TDGbkxY5U
        NpiiyuoXu1Qifj9m02KXiaB7cloeJRlSl2WWN11Y4FIQ+oyCQXcoHRECgYEAxNTx
        FEaidiOy/7OUOGYA1ijpW69Pg9gsBSB2on/jXCbWCJVosN4fUUjz97fGyE1n32WI
        fl8l5lpu4mBiARxsdInGckjtnC9BzrR5s4hSfRGxdc4EbOiRHn+p2we+Lz9gQJUi
        CpyA22RGIehW69HtTJvf6V8CvlkD/mXfIHS391UCgYBevWHmGNNubewGIeiDpJCC
        x0Ksx1Y1iJAbdcPI7jxrQp7D3IGHRgA8ydbT62GiGkkwwKtwA/hSD2H1+0LJj8Ak
        +pMQUc9Wh9LZiaFTUiOpK7GlVs6h3A0q5aKB8J1fwv48w99qOTNJBb+q0T3YV7IU
        EeSbkfsCARGbsZIURwUCsQKBgDKqtdwISq2qhts3eMIDz9dQ9LD7Mba4oKw5LRCr
        ZvVDsfjHrQlKRDmCU/rCPdM1ybVBx57wEyt2v/BZ6yBqFqjxBjpI95EqwP/aiTFj
        uAgl086FV7JJM4HsTubo2VYENFyrhvXAT5Mp/rufuTA++5yqyzqhkG07MMH9qzAJ
        m4l5AoGAEib/0/TTdxdNRBHu2569kKAC7bD1CRiEcOR8vjk9cGcfQogjVTovkO6I
        x5U4bg6yq9ce11f+ftgHObi19z6/Kport3CZB82jPqihZvDhTWuB8auvJZX1oknS
        GjhynfjJeHglnEGMZ5tu4bYKS2ySztplOgtSsh2nr/lmBt0/XaY=
        -----END RSA PRIVATE KEY-----
        """,
    ]
}
